// The Quiz toggle, the question box (pick the gradient before it is shown) and the score in the corner.
import { createScore } from "../teach/quiz.js";

/** `root`: the graph pane; `onChange()`: redraw the current step (after a toggle or an answer). */
export function createQuizView(root, { onChange = () => {} } = {}) {
  const doc = root.ownerDocument;
  const score = createScore();
  let on = false;
  const tools = root.querySelector(".graph-tools");
  const toggle = doc.createElement("button");
  Object.assign(toggle, { type: "button", id: "quiz-toggle", className: "btn toggle", textContent: "Quiz", title: "Predict each gradient before it is shown" });
  toggle.setAttribute("aria-label", "Quiz");
  toggle.setAttribute("aria-pressed", "false");
  tools?.appendChild(toggle);
  const scoreEl = doc.createElement("div");
  Object.assign(scoreEl, { id: "quiz-score", className: "quiz-score", hidden: true });
  scoreEl.setAttribute("role", "status");
  const box = doc.createElement("section");
  Object.assign(box, { id: "quiz", className: "quiz", hidden: true });
  box.setAttribute("aria-label", "Predict the gradient");
  root.append(scoreEl, box);
  toggle.addEventListener("click", () => { set(!on); onChange(); });

  function set(v) {
    on = !!v;
    toggle.setAttribute("aria-pressed", String(on));
    scoreEl.hidden = !on;
    if (!on) box.hidden = true;
    drawScore();
  }

  function drawScore() {
    scoreEl.textContent = `Score ${score.right} / ${score.total}`;
    scoreEl.dataset.right = String(score.right);
    scoreEl.dataset.total = String(score.total);
  }

  /** Show question q (null: none at this step). Returns true while the answer must stay hidden. */
  function show(q) {
    if (!on || !q) { box.hidden = true; return false; }
    box.hidden = false;
    box.dataset.key = q.key;
    const prompt = doc.createElement("p");
    prompt.className = "quiz-prompt";
    prompt.textContent = q.prompt;
    const list = doc.createElement("div");
    list.className = "quiz-choices";
    const done = score.answered(q.key);
    q.choices.forEach((c, i) => {
      const b = doc.createElement("button");
      b.type = "button";
      b.className = "btn quiz-choice";
      b.textContent = c.text;
      b.dataset.correct = String(c.correct); // for tests and for the reveal styling
      b.setAttribute("aria-label", `Answer ${i + 1}: ${c.text}`);
      if (done) { b.disabled = true; if (c.correct) b.classList.add("right"); }
      b.addEventListener("click", () => {
        score.answer(q.key, c.correct);
        drawScore();
        onChange();
        doc.getElementById("quiz-feedback")?.focus();
      });
      list.appendChild(b);
    });
    const parts = done ? [prompt] : [prompt, list]; // answered: the feedback stays, the choices make room for the card
    if (done) {
      const fb = doc.createElement("p");
      fb.id = "quiz-feedback";
      fb.tabIndex = -1;
      fb.className = `quiz-feedback ${score.result(q.key) ? "right" : "wrong"}`;
      fb.textContent = `${score.result(q.key) ? "✓ Right." : `✗ Not quite: it is ${q.answer}.`} Why: ${q.why}`;
      parts.push(fb);
    }
    box.replaceChildren(...parts);
    return !done;
  }

  /** Stepping on was held: point at the question (focus its first choice, say why). */
  function nudge() {
    if (box.hidden) return;
    box.classList.remove("nudge");
    void box.offsetWidth; // restart the highlight
    box.classList.add("nudge");
    let note = box.querySelector(".quiz-hold");
    if (!note) { note = doc.createElement("p"); note.className = "quiz-hold"; note.setAttribute("role", "status"); box.appendChild(note); }
    note.textContent = "Answer first: the next step shows the answer.";
    box.querySelector(".quiz-choice:not([disabled])")?.focus();
  }

  return { show, set, nudge, get on() { return on; }, score, reset: () => { score.reset(); drawScore(); } };
}
