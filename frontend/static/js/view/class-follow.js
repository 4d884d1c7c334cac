// A follower's class bar ("Following live" / "You are N steps behind" + "Rejoin live") and the question card
// answered on a phone. The lecturer's texts are set as text; the follower sends only a choice index.

const el = (doc, tag, props = {}, text = null) => {
  const e = Object.assign(doc.createElement(tag), props);
  if (text !== null) e.textContent = text;
  return e;
};

/** `rejoin()` when the button is pressed; `answer(q, i)` → true (counted) / false (already answered). */
export function createClassFollowView(doc, code, { rejoin, answer }) {
  const root = doc.getElementById("graph");
  root.dataset.class = code;
  root.dataset.following = "true";
  doc.documentElement.classList.add("class-follower");
  const bar = el(doc, "div", { id: "class-follow", className: "class-follow" });
  bar.setAttribute("role", "status");
  const text = el(doc, "span", { className: "class-follow-text" }, `Joining class ${code}…`);
  const btn = el(doc, "button", { type: "button", className: "btn primary", hidden: true }, "Rejoin live");
  btn.setAttribute("aria-label", "Rejoin live");
  btn.addEventListener("click", () => rejoin());
  bar.append(el(doc, "span", { className: "class-dot", ariaHidden: "true" }), text, btn);
  const card = el(doc, "section", { id: "class-question", className: "class-question", hidden: true });
  card.setAttribute("aria-label", "The lecturer's question");
  root.append(bar, card);
  let q = null, mine = null, sent = false;

  function status({ following, live, shown, ended, error }) {
    root.dataset.following = String(!!following && !ended);
    bar.classList.toggle("away", !following && !ended);
    bar.classList.toggle("ended", !!ended);
    btn.hidden = !!following || !!ended || live === null;
    if (ended) text.textContent = error || "The lecturer ended this class session.";
    else if (error && live === null) text.textContent = error;
    else if (following) text.textContent = `Following the lecturer live · class ${code}${error ? ` · ${error}` : ""}`;
    else {
      const d = (live ?? 0) - shown;
      text.textContent = d > 0 ? `You are ${d} step${d === 1 ? "" : "s"} behind` : d < 0 ? `You are ${-d} step${d === -1 ? "" : "s"} ahead` : "You left the live view";
    }
  }

  /** The open question ({id, prompt, choices, revealed, correct}) or null. */
  function question(next) {
    if (!next) { q = null; card.hidden = true; return; }
    if (!q || q.id !== next.id) { mine = null; sent = false; }
    q = next;
    draw();
  }

  function revealed(t) {
    if (!q || t?.id !== q.id) return;
    q = { ...q, revealed: true, correct: t.correct };
    draw();
  }

  function draw() {
    card.hidden = false;
    card.dataset.id = q.id;
    card.dataset.revealed = String(!!q.revealed);
    const list = el(doc, "div", { className: "class-choices" });
    q.choices.forEach((c, i) => {
      const b = el(doc, "button", { type: "button", className: "btn class-choice", disabled: sent || !!q.revealed }, `${String.fromCharCode(65 + i)}  ${c}`);
      b.setAttribute("aria-label", `Answer ${String.fromCharCode(65 + i)}: ${c}`);
      if (mine === i) b.classList.add("mine");
      if (q.revealed && q.correct === i) b.classList.add("right");
      b.addEventListener("click", async () => {
        mine = i; sent = true; draw();
        try { if (!(await answer(q, i))) note.textContent = "You had already answered this one."; } catch (err) { sent = false; mine = null; draw(); note.textContent = err.message; }
      });
      list.append(b);
    });
    const note = el(doc, "p", { className: "class-note" }, q.revealed
      ? mine === null ? `The answer is ${String.fromCharCode(65 + q.correct)}.` : mine === q.correct ? "✓ Right!" : `✗ Not quite: the answer is ${String.fromCharCode(65 + q.correct)}.`
      : sent ? "Answer sent. Wait for the lecturer to reveal it." : "Predict, then tap your answer.");
    note.setAttribute("role", "status");
    card.replaceChildren(el(doc, "h2", {}, "Predict"), el(doc, "p", { className: "class-prompt" }, q.prompt), list, note);
  }

  return { status, question, revealed };
}
