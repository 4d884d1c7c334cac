// The lecturer's class controls: the join screen (code, link, QR drawn here), the bar while a session runs
// ("Ask the class", "End class session") and the live histogram of answers. Every text is set as text.
import { encodeQr, qrPath } from "../class/qr.js";

const SVG = "http://www.w3.org/2000/svg";

/** An <svg> of the QR code of `text` (black on white, with its quiet zone), scaled by CSS. */
export function qrSvg(doc, text) {
  const qr = encodeQr(text);
  const n = qr.size + 8;
  const svg = doc.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${n} ${n}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `QR code of ${text}`);
  svg.dataset.version = String(qr.version);
  const bg = doc.createElementNS(SVG, "rect");
  Object.entries({ width: n, height: n, fill: "#fff" }).forEach(([k, v]) => bg.setAttribute(k, v));
  const path = doc.createElementNS(SVG, "path");
  path.setAttribute("d", qrPath(qr, 4));
  path.setAttribute("fill", "#000");
  svg.append(bg, path);
  return svg;
}

const el = (doc, tag, props = {}, text = null) => {
  const e = Object.assign(doc.createElement(tag), props);
  if (text !== null) e.textContent = text;
  return e;
};

/**
 * Hooks: `start()` begins a session, `end()`, `ask()` opens a question at the current step, `reveal(id)`.
 * Returns {session(s|null), canAsk(bool), question(q), tally(t), revealed(t), followers(n), say(text, kind)}.
 */
export function createClassHostView(doc, { start, end, ask, reveal }) {
  const $ = (id) => doc.getElementById(id);
  const dlg = $("class-dialog");
  const bar = $("class-host");
  const root = $("graph");
  const panel = el(doc, "aside", { id: "class-answers", className: "class-answers", hidden: true });
  panel.setAttribute("aria-label", "The class's answers");
  panel.dataset.count = "0";
  root.append(panel);
  let current = null, question = null, counts = [], correct = null;

  const say = (text, kind = "") => { for (const s of doc.querySelectorAll(".class-status")) { s.textContent = text; s.className = `class-status ${kind}`; } };
  const busy = async (button, work) => {
    button.disabled = true;
    try { await work(); } catch (err) { say(err.message || String(err), "error"); } finally { button.disabled = false; }
  };

  for (const b of doc.querySelectorAll('button[aria-label="Start class session"]')) {
    b.addEventListener("click", (ev) => busy(ev.currentTarget, async () => {
      $("share-dialog")?.open && $("share-dialog").close();
      if (!current) { say("Starting the session…", "busy"); await start(); }
      showJoin();
    }));
  }
  for (const b of doc.querySelectorAll('button[aria-label="End class session"]')) {
    b.addEventListener("click", (ev) => busy(ev.currentTarget, async () => { await end(); if (dlg.open) dlg.close(); }));
  }
  $("class-show-join")?.addEventListener("click", () => showJoin());
  $("class-ask")?.addEventListener("click", (ev) => busy(ev.currentTarget, () => ask()));

  function showJoin() {
    if (!current) return;
    const link = new URL(current.join_url || `/c/${current.code}`, doc.defaultView.location.href).href;
    $("class-code").textContent = current.code;
    $("class-link").textContent = link;
    $("class-link").href = link;
    $("class-qr").replaceChildren(qrSvg(doc, link));
    say("Students scan the code or open the link; they follow your steps live.");
    if (!dlg.open) dlg.showModal();
  }

  function session(s) {
    current = s;
    bar.hidden = !s;
    doc.documentElement.classList.toggle("class-live", !!s);
    root.dataset.class = s ? s.code : "";
    if (!s) { delete root.dataset.class; panel.hidden = true; question = null; say("The class session has ended."); return; }
    $("class-host-code").textContent = s.code;
    $("class-show-join")?.setAttribute("aria-label", `${s.code}: show join code`); // the name holds the visible text
  }

  function followers(n) {
    if (Number.isInteger(n)) $("class-host-count").textContent = `${n} following`;
  }

  /** A question was opened: {id, prompt, choices: [text], correct}. */
  function showQuestion(q) {
    question = q; counts = q.choices.map(() => 0); correct = null;
    panel.hidden = false;
    draw();
  }

  function tally(t) {
    if (!question || t?.id !== question.id || !Array.isArray(t.counts)) return;
    counts = question.choices.map((_, i) => Math.max(0, Number(t.counts[i]) || 0));
    if (Number.isInteger(t.correct)) correct = t.correct; // only once revealed: the stream is public
    draw();
  }

  function revealed(t) {
    if (!question || t?.id !== question.id) return;
    correct = Number.isInteger(t.correct) ? t.correct : question.correct;
    if (Array.isArray(t.counts)) counts = question.choices.map((_, i) => Math.max(0, Number(t.counts[i]) || 0));
    draw();
  }

  function draw() {
    const total = counts.reduce((a, b) => a + b, 0), top = Math.max(1, ...counts);
    panel.dataset.count = String(total);
    panel.dataset.right = String(counts[question.correct] ?? 0);
    panel.dataset.revealed = String(correct !== null);
    const head = el(doc, "p", { className: "class-answers-prompt" }, question.prompt);
    const rows = question.choices.map((text, i) => {
      const row = el(doc, "div", { className: `class-bar${correct === i ? " right" : ""}` });
      row.dataset.choice = String(i);
      row.dataset.count = String(counts[i]);
      const label = el(doc, "span", { className: "class-bar-label" }, `${String.fromCharCode(65 + i)}  ${text}`);
      const track = el(doc, "span", { className: "class-bar-track" });
      const fill = el(doc, "span", { className: "class-bar-fill" });
      fill.style.width = `${(100 * counts[i]) / top}%`;
      track.append(fill);
      const n = el(doc, "span", { className: "class-bar-n" }, String(counts[i]));
      row.append(label, track, n);
      return row;
    });
    const right = counts[question.correct] ?? 0;
    const sum = el(doc, "p", { className: "class-answers-sum" }, correct === null
      ? `${total} answer${total === 1 ? "" : "s"} · ${right} right (shown to you only until you reveal)`
      : `${total} answer${total === 1 ? "" : "s"} · ${right} right (${total ? Math.round((100 * right) / total) : 0}%) · the answer is ${String.fromCharCode(65 + correct)}`);
    const btn = el(doc, "button", { type: "button", className: "btn primary", disabled: correct !== null }, correct === null ? "Reveal answer" : "Revealed");
    btn.setAttribute("aria-label", "Reveal answer");
    btn.addEventListener("click", () => busy(btn, () => reveal(question.id)));
    const close = el(doc, "button", { type: "button", className: "btn" }, "Hide");
    close.addEventListener("click", () => { panel.hidden = true; });
    const tools = el(doc, "div", { className: "class-answers-tools" });
    tools.append(btn, close);
    panel.replaceChildren(el(doc, "h2", {}, "The class answers"), head, ...rows, sum, tools);
  }

  return {
    session, followers, question: showQuestion, tally, revealed, say, showJoin,
    canAsk(yes) { const b = $("class-ask"); if (b) { b.disabled = !yes; b.title = yes ? "Ask the class to predict the gradient at this step" : "Step to a backward node to ask the class"; } },
  };
}
