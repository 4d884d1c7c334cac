// How autograd nodes and tensors are named on screen and in narration.

/** "op" | "accumulate" | "custom", from the tracer's `kind` when present, else from the name. */
export function opKind(node) {
  if (node.kind === "accumulate" || node.kind === "custom" || node.kind === "op") return node.kind;
  const name = String(node.name || "");
  if (name.includes("AccumulateGrad")) return "accumulate";
  if (/Backward$/.test(name) && !/^torch::/.test(name)) return "custom"; // built-ins end in Backward0/1
  return "op";
}

/** "torch::autograd::AccumulateGrad" → "AccumulateGrad". */
export function shortNodeName(name) {
  return String(name || "?").replace(/^torch::autograd::/, "");
}

/**
 * The name a tensor goes by: its variable name, "a.grad", or the expression that made it
 * ("sum(mul(a, b))"), so narration can talk about unnamed intermediates.
 */
export function tensorName(trace, index, tid, depth = 2) {
  const t = index.tensors.get(tid);
  if (!t) return "?";
  if (t.name) return t.name;
  if (t.grad_of) return `${tensorName(trace, index, t.grad_of, depth)}.grad`;
  const s = index.producedBy.get(tid);
  if (s === undefined || depth <= 0) return `t${tid}`.replace(/^tt/, "t");
  const step = trace.forward[s];
  const args = (step.inputs || []).map((i) => tensorName(trace, index, i, depth - 1));
  return `${step.op}(${args.join(", ")})`;
}

/** Lookup tables tensorName needs: tensors by id and the forward step that first output each. */
export function nameIndex(trace) {
  const tensors = new Map((trace.tensors || []).map((t) => [t.id, t]));
  const producedBy = new Map();
  (trace.forward || []).forEach((s, i) => (s.outputs || []).forEach((o) => producedBy.has(o) || producedBy.set(o, i)));
  return { tensors, producedBy };
}
