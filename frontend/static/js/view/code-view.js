// A read-only program listing with line numbers, for pages without the editor (standalone HTML, exports).
// It has the editor's showLines() and marks lines with the same classes (.cm-step-line / .cm-error-line).

import { appendMarked } from "./marked-text.js";

export function createCodeView(parent, code) {
  const doc = parent.ownerDocument;
  const pre = doc.createElement("pre");
  pre.className = "code-lines";
  const lines = String(code).replace(/\n$/, "").split("\n");
  const rows = lines.map((text, i) => {
    const row = doc.createElement("div");
    row.className = "code-line";
    row.dataset.n = String(i + 1);
    const num = doc.createElement("span");
    num.className = "ln";
    num.textContent = String(i + 1);
    const src = doc.createElement("span");
    src.className = "src";
    appendMarked(src, text || " "); // bidi controls marked as the editor marks them; " " keeps empty lines tall
    row.append(num, src);
    return row;
  });
  pre.append(...rows);
  parent.replaceChildren(pre);
  let shown = { step: null, error: null };

  function mark(line, cls) {
    const row = rows[line - 1];
    if (!row) return;
    row.classList.add(cls);
    row.dataset.line = String(line);
  }

  return {
    get code() { return code; },
    /** Highlight the current step's line and/or the error line; null clears. */
    showLines({ step = shown.step, error = shown.error, cause = null } = {}) {
      if (step === shown.step && error === shown.error && cause === shown.cause) return;
      for (const r of rows) { r.classList.remove("cm-step-line", "cm-error-line", "cm-cause-line"); delete r.dataset.line; }
      shown = { step, error, cause };
      if (error) mark(error, "cm-error-line");
      if (step && step !== error) mark(step, "cm-step-line");
      if (cause && cause !== error && cause !== step) mark(cause, "cm-cause-line");
      const target = rows[(step ?? error ?? 0) - 1];
      if (target) scrollIntoViewIfHidden(parent, target);
      parent.dataset.errorLine = error ?? "";
      parent.dataset.stepLine = step ?? "";
    },
  };
}

// Scroll only the listing (never the page or a parent frame) so the line is in view.
function scrollIntoViewIfHidden(box, row) {
  const top = row.offsetTop, bottom = top + row.offsetHeight;
  if (top < box.scrollTop + 30) box.scrollTop = Math.max(0, top - 40);
  else if (bottom > box.scrollTop + box.clientHeight - 30) box.scrollTop = bottom - box.clientHeight + 40;
}
