// The run's outcome around the graph: status line, error box (+ error line in the editor), printed output.

export function setStatus(doc, text, kind = "") {
  const el = doc.getElementById("run-status");
  el.textContent = text;
  el.className = `run-status ${kind}`;
}

export function showRunResult(doc, trace, editor) {
  const err = trace.error;
  const box = doc.getElementById("error");
  box.hidden = !err;
  if (err) {
    doc.getElementById("error-title").textContent = `${err.type}${err.line ? ` on line ${err.line}` : ""}`;
    doc.getElementById("error-message").textContent = err.message;
  }
  editor.showLines({ step: null, error: err?.line ?? null });
  const out = doc.getElementById("stdout");
  out.textContent = [trace.stdout, trace.stderr].filter(Boolean).join("\n");
  doc.getElementById("stdout-size").textContent = trace.stdout ? `(${trace.stdout.split("\n").filter(Boolean).length} lines)` : "(none)";
  doc.getElementById("stdout-box").open = Boolean(trace.stdout);
  const nb = trace.backward.length;
  setStatus(doc, trace.status === "ok"
    ? `${trace.forward.length} ops · ${nb} backward pass${nb === 1 ? "" : "es"}`
    : `Stopped: ${err?.kind ?? "error"}`, trace.status === "ok" ? "" : "error");
}
