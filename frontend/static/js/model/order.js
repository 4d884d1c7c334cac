// Where each backward pass sits among the forward steps (the trace keeps the two lists apart).

/**
 * For each backward pass, the index of the last forward step that ran before it (-1: before all).
 * A pass comes after the op that created any node it runs; past that, forward steps on later
 * lines up to the backward call's own line are taken to have run before it (straight-line code).
 */
export function placePasses(trace, nodeSeq) {
  const forward = trace.forward || [];
  const out = [];
  let prev = -1;
  for (const pass of trace.backward || []) {
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
    out.push(pos);
    prev = pos;
  }
  return out;
}

/** The merged sequence: [{kind:"forward", index} | {kind:"backward", pass, index}]. */
export function mergeSteps(trace, positions) {
  const entries = [];
  const forward = trace.forward || [];
  const passes = trace.backward || [];
  const pushPass = (p) => (passes[p].steps || []).forEach((_, j) => entries.push({ kind: "backward", pass: p, index: j }));
  let p = 0;
  while (p < passes.length && positions[p] < 0) pushPass(p++);
  forward.forEach((_, i) => {
    entries.push({ kind: "forward", index: i });
    while (p < passes.length && positions[p] <= i) pushPass(p++);
  });
  while (p < passes.length) pushPass(p++);
  return entries;
}
