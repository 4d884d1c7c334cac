// Training bookkeeping (optimizer state, zero_grad, gradient clipping, scheduler values): steps and tensors that
// the graph leaves out by default. A step is bookkeeping when the optimizer ran it (kind "optim"), the tracer tagged
// it (ForwardStep.bookkeeping: clipping, zero_grad, a scheduler), or it records no autograd node and reads a tensor
// only bookkeeping made (a clipping norm used later). A hand-written update (`w -= lr * w.grad`) is not bookkeeping.

/** {steps: Set of forward indices, tensors: Set of tensor ids only bookkeeping steps made} of a trace. */
export function bookkeeping(trace) {
  const tensors = new Map((trace.tensors || []).map((t) => [t.id, t]));
  const steps = new Set(), made = new Set();
  const real = new Set(); // tensors some other step made or the program holds: always drawn
  (trace.forward || []).forEach((s, i) => {
    const ins = s.inputs || [];
    const book = s.kind === "optim" || !!s.bookkeeping || (s.node == null && ins.some((t) => made.has(t)));
    if (!book) { for (const t of s.outputs || []) real.add(t); return; }
    steps.add(i);
    for (const t of s.outputs || []) if (!tensors.get(t)?.grad_of && !(tensors.get(t)?.requires_grad && tensors.get(t)?.is_leaf)) made.add(t);
  });
  return { steps, tensors: new Set([...made].filter((t) => !real.has(t))) };
}
