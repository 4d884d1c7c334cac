// A synthetic trace of `for i in range(n): x = x * w` (+ sum + backward): about 3n drawn nodes,
// with `w` used by every iteration, the shape that breaks naive layered layout.
const V = (x) => ({ shape: [], values: x, min: x, max: x, mean: x, sum: x });

export function loopTrace(n) {
  const tensors = [{ id: "w", name: "w", shape: [], dtype: "float32", requires_grad: true, is_leaf: true, retains_grad: false, grad_fn: null, data: V(1.01), grad: V(1) },
    { id: "x0", name: "x", shape: [], dtype: "float32", requires_grad: false, is_leaf: true, retains_grad: false, grad_fn: null, data: V(1), grad: null }];
  const nodes = [{ id: "acc", name: "torch::autograd::AccumulateGrad", tensor: "w", next: [], saved: [], line: null, kind: "accumulate" }];
  const forward = [{ op: "tensor", inputs: [], outputs: ["w"], node: null, grad_enabled: true, line: 2, values: [V(1.01)] },
    { op: "tensor", inputs: [], outputs: ["x0"], node: null, grad_enabled: true, line: 3, values: [V(1)] }];
  let prev = "x0", prevNode = null;
  for (let i = 1; i <= n; i++) {
    const t = `x${i}`, nd = `m${i}`;
    nodes.push({ id: nd, name: "MulBackward0", tensor: t, next: [[prevNode, 0], ["acc", 0]], saved: [], line: 5, kind: "op" });
    tensors.push({ id: t, name: i === n ? "x" : null, shape: [], dtype: "float32", requires_grad: true, is_leaf: false, retains_grad: false, grad_fn: nd, data: V(i), grad: null });
    forward.push({ op: "mul", inputs: [prev, "w"], outputs: [t], node: nd, grad_enabled: true, line: 5, values: [V(i)] });
    prev = t; prevNode = nd;
  }
  const steps = [];
  for (let i = n; i >= 1; i--) steps.push({ node: `m${i}`, grad_outputs: [V(1)], grad_inputs: [i > 1 ? V(1) : null, V(1)] });
  steps.push({ node: "acc", grad_outputs: [V(n)], grad_inputs: [] });
  return {
    version: 1, status: "ok", error: null, stdout: "", tensors, nodes, forward, variables: { w: "w", x: prev },
    backward: [{ call: "backward", line: 6, root: prev, gradient: null, retain_graph: false, create_graph: false, error: null, steps }],
  };
}
