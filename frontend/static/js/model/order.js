// Where each backward pass sits among the forward steps (the trace keeps the two lists apart).

/**
 * For each backward pass, the index of the last forward step that ran before it (-1: before all).
 * The tracer's `after_forward` (forward steps recorded before the call) says it exactly; traces
 * without it fall back to a guess: a pass comes after the op that created any node it runs, and
 * forward steps on later lines up to the backward call's own line ran before it (straight-line code).
 */
export function placePasses(trace, nodeSeq) {
  const forward = trace.forward || [];
  const out = [];
  let prev = -1;
  for (const pass of trace.backward || []) {
    const pos = Number.isInteger(pass.after_forward)
      ? Math.max(prev, Math.min(forward.length - 1, pass.after_forward - 1)) // passes stay in call order
      : guess(forward, pass, prev, nodeSeq);
    out.push(pos);
    prev = pos;
  }
  return out;
}

function guess(forward, pass, prev, nodeSeq) {
  let pos = prev;
  for (const s of pass.steps || []) {
    const q = nodeSeq(s.node);
    if (Number.isFinite(q) && q > pos) pos = q;
  }
  const anchorLine = pos >= 0 ? forward[pos]?.line : null;
  if (pass.line != null) {
    while (pos + 1 < forward.length) {
      const line = forward[pos + 1].line;
      if (line == null || line > pass.line || (anchorLine != null && line < anchorLine)) break; // same line: the call's own arguments
      pos++;
    }
  }
  return pos;
}

/**
 * The merged sequence: [{kind:"forward", index} | {kind:"backward", pass, index} | {kind:"error", pass}].
 * A pass that raised gets one "error" entry after the steps it ran (a caught error often ran none,
 * and would otherwise never be seen).
 */
export function mergeSteps(trace, positions) {
  const entries = [];
  const forward = trace.forward || [];
  const passes = trace.backward || [];
  const pushPass = (p) => {
    (passes[p].steps || []).forEach((_, j) => entries.push({ kind: "backward", pass: p, index: j }));
    if (passes[p].error) entries.push({ kind: "error", pass: p });
  };
  let p = 0;
  while (p < passes.length && positions[p] < 0) pushPass(p++);
  forward.forEach((_, i) => {
    entries.push({ kind: "forward", index: i });
    while (p < passes.length && positions[p] <= i) pushPass(p++);
  });
  while (p < passes.length) pushPass(p++);
  return entries;
}
