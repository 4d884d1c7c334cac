// Which nodes and edges the current step touches: the op and its inputs/outputs going forward,
// the running node and the routes its gradients take going backward.

export function activity(graph, state) {
  const out = { active: new Set(), touched: new Set(), sending: new Set(), feeding: new Set(), hooked: new Set(), focus: null };
  const e = state.entry;
  if (!e) return out;
  const keyOf = (tid) => {
    if (graph.nodes.has(`t:${tid}`)) return `t:${tid}`;
    const owner = graph.tensors.get(tid)?.grad_of;
    return owner && graph.nodes.has(`t:${owner}`) ? `t:${owner}` : null;
  };
  if (e.kind === "forward") {
    const s = state.stepData;
    const node = s.node != null ? `n:${s.node}` : null;
    if (node) out.active.add(node);
    for (const o of s.outputs || []) { const k = keyOf(o); if (k) out.active.add(k); }
    for (const i of s.inputs || []) { const k = keyOf(i); if (k && !out.active.has(k)) out.touched.add(k); }
    for (const [ek, edge] of graph.edges) {
      if (node && (edge.target === node || edge.source === node) && edge.kind === "data") {
        const other = edge.target === node ? edge.source : edge.target;
        if (out.active.has(other) || out.touched.has(other)) out.feeding.add(ek);
      } else if (!node && edge.kind !== "data" && out.touched.has(edge.source) && out.active.has(edge.target)) out.feeding.add(ek);
    }
    out.focus = [...out.active].find((k) => k.startsWith("t:")) ?? node ?? [...out.touched][0] ?? null;
    return out;
  }
  if (e.kind === "error") { // a failed backward call: point at the tensor it started from
    const k = state.stepData?.root ? keyOf(state.stepData.root) : null;
    if (k) { out.touched.add(k); out.focus = k; }
    return out;
  }
  const step = state.flow?.current;
  if (!step) return out;
  const node = `n:${step.node}`;
  out.active.add(node);
  const t = graph.tnodes.get(step.node)?.tensor;
  if (t && keyOf(t)) out.touched.add(keyOf(t));
  for (const s of state.flow.sent) for (const ek of s.route?.edges || []) out.sending.add(ek);
  for (const h of step.hooks || []) out.hooked.add(h.tensor);
  out.focus = node;
  return out;
}
