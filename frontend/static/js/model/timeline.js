// The timeline state machine: forward steps and backward passes as one sequence of steps.
// Step k (0..total) means "the first k entries have run"; stateAt(tl, k) says what is on screen.
import { addValues, filled } from "./values.js";
import { opKind } from "./names.js";
import { placePasses, mergeSteps } from "./order.js";

/** Precompute everything stateAt needs; cheap to query at any k afterwards. */
export function buildTimeline(trace, graph) {
  const nodeSeq = (id) => graph.nodes.get(`n:${id}`)?.seq ?? Infinity;
  const positions = placePasses(trace, nodeSeq);
  const entries = mergeSteps(trace, positions);
  const total = entries.length;
  const appear = new Map();
  const dataWrites = new Map();
  const gradWrites = new Map();
  const passRange = (trace.backward || []).map(() => ({ start: null, end: null }));
  const write = (m, tid, k, v) => { if (!m.has(tid)) m.set(tid, []); m.get(tid).push({ k, v }); };
  const curGrad = new Map();
  const setGrad = (tid, k, v) => { curGrad.set(tid, v); write(gradWrites, tid, k, v); };
  const tensors = graph.tensors;

  // Forward steps make nodes appear in program order; the rest appear with their first referrer.
  const seqStep = new Map();
  entries.forEach((e, i) => {
    const k = i + 1;
    if (e.kind === "forward") {
      if (!seqStep.has(e.index)) seqStep.set(e.index, k);
      const s = trace.forward[e.index];
      // inputs whose value the trace had not shown yet (a parameter first seen, one an optimizer or a folded
      // iteration changed): their value from this step on
      if (s.data_changes) for (const [t, v] of Object.entries(s.data_changes)) if (v) write(dataWrites, t, k, v);
      (s.outputs || []).forEach((o, j) => {
        const v = s.values?.[j];
        if (v) write(dataWrites, o, k, v);
        const owner = tensors.get(o)?.grad_of;
        if (owner && v) setGrad(owner, k, v); // e.g. a.grad.zero_() or an in-place update of .grad
      });
      if (s.op === "grad.set" && s.inputs?.length) setGrad(s.inputs[0], k, s.values?.[0] ?? null); // x.grad = None
    } else if (e.kind === "error") { // a pass that raised: one step of its own, after any nodes it ran
      const r = passRange[e.pass];
      if (r.start === null) r.start = k;
      r.end = k;
      for (const [t, v] of Object.entries(trace.backward[e.pass].grads_after || {})) setGrad(t, k, v);
    } else {
      const pass = trace.backward[e.pass];
      const r = passRange[e.pass];
      if (r.start === null) r.start = k;
      r.end = k;
      const step = pass.steps[e.index];
      const node = graph.tnodes.get(step.node);
      const tid = node?.tensor;
      if (tid && step.tensor_grad !== undefined) {
        if (opKind(node) === "accumulate" || tensors.get(tid)?.retains_grad || step.tensor_grad !== null) setGrad(tid, k, step.tensor_grad);
      } else if (tid && (opKind(node) === "accumulate" || (tensors.get(tid)?.retains_grad && !tensors.get(tid)?.is_leaf))) {
        if (pass.call !== "grad") setGrad(tid, k, addValues(curGrad.get(tid) ?? null, step.grad_outputs?.[0] ?? null));
      }
      if (e.index === pass.steps.length - 1 && pass.grads_after) {
        for (const [t, v] of Object.entries(pass.grads_after)) setGrad(t, k, v);
      }
    }
  });
  for (const d of graph.nodes.values()) {
    appear.set(d.key, Number.isFinite(d.seq) ? seqStep.get(d.seq) ?? 0 : 0);
  }
  const hints = valueHints(trace, graph, dataWrites, gradWrites);
  return { trace, graph, entries, total, appear, dataWrites, gradWrites, passRange, positions, hints, flowMemo: null };
}

/** Every Values a tensor's rows will ever show (so boxes are sized for their widest content). */
function valueHints(trace, graph, dataWrites, gradWrites) {
  const hints = new Map();
  const hint = (tid) => {
    if (!hints.has(tid)) hints.set(tid, { data: [], grad: [] });
    return hints.get(tid);
  };
  for (const t of graph.tensors.values()) {
    const h = hint(t.id);
    h.data.push(t.data, ...(dataWrites.get(t.id) || []).map((w) => w.v));
    h.grad.push(t.grad, ...(gradWrites.get(t.id) || []).map((w) => w.v));
  }
  for (const pass of trace.backward || []) {
    for (const step of pass.steps || []) {
      const node = graph.tnodes.get(step.node);
      if (node?.tensor && hints.has(node.tensor)) hint(node.tensor).grad.push(step.grad_outputs?.[0]);
      (step.grad_inputs || []).forEach((g, slot) => {
        const via = graph.routes.get(`${step.node}#${slot}`)?.via;
        if (via && g) hint(via).grad.push(g);
      });
    }
  }
  for (const h of hints.values()) { h.data = h.data.filter(Boolean); h.grad = h.grad.filter(Boolean); }
  return hints;
}

function lastWrite(list, k) {
  if (!list) return undefined;
  let lo = 0, hi = list.length - 1, found;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].k <= k) { found = list[mid]; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

/** Value of tensor `tid` after step k (its final value once the timeline is at the end). Before its first write a
 * tensor is not on screen yet; it is given the first value the trace has of it (never a later one). */
export function dataAt(tl, tid, k) {
  const t = tl.graph.tensors.get(tid);
  if (k >= tl.total) return t?.data ?? null;
  const ws = tl.dataWrites.get(tid);
  return lastWrite(ws, k)?.v ?? ws?.[0]?.v ?? t?.data ?? null;
}

/** `.grad` of tensor `tid` after step k (null when torch would have none yet). */
export function gradAt(tl, tid, k) {
  if (k >= tl.total) return tl.graph.tensors.get(tid)?.grad ?? null;
  return lastWrite(tl.gradWrites.get(tid), k)?.v ?? null;
}

export function isVisible(tl, key, k) {
  return (tl.appear.get(key) ?? 0) <= k;
}

/** The entry that ran at step k (null at k = 0). */
export function entryAt(tl, k) {
  return k >= 1 && k <= tl.total ? tl.entries[k - 1] : null;
}

/**
 * Gradient flow of the backward pass that step k is in: which nodes ran, which are waiting,
 * dL/dt that reached each tensor so far (with fan-in parts), and the gradient on each edge.
 * A function of (trace, k): the result is never changed afterwards, so a later call cannot make it stale.
 */
export function flowAt(tl, k) {
  const e = entryAt(tl, k);
  if (!e || e.kind !== "backward") return null;
  const memo = tl.flowMemo;
  if (memo && memo.k === k) return memo.st;
  let st;
  if (memo && memo.st.pass === e.pass && memo.st.index <= e.index) st = cloneFlow(memo.st); // stepping on: extend a copy
  else st = startFlow(tl, e.pass);
  const pass = tl.trace.backward[e.pass];
  for (let j = st.index + 1; j <= e.index; j++) applyStep(tl, st, pass.steps[j]);
  st.index = e.index;
  st.k = k;
  st.current = pass.steps[e.index];
  tl.flowMemo = { k, st };
  return st;
}

function cloneFlow(st) {
  return { ...st, done: new Set(st.done), pending: new Set(st.pending), tensorFlow: new Map(st.tensorFlow), edgeGrad: new Map(st.edgeGrad), sent: [...st.sent] };
}

function startFlow(tl, p) {
  const pass = tl.trace.backward[p];
  const root = tl.graph.tensors.get(pass.root);
  const seed = pass.gradient ?? (root ? filled(root.shape, 1) : null);
  const st = { pass: p, index: -1, k: 0, done: new Set(), pending: new Set(), tensorFlow: new Map(), edgeGrad: new Map(), sent: [], seed };
  if (root) st.tensorFlow.set(root.id, { sum: seed, parts: [{ from: null, slot: null, values: seed }] });
  if (root?.grad_fn) st.pending.add(root.grad_fn);
  return st;
}

function applyStep(tl, st, step) {
  const node = tl.graph.tnodes.get(step.node);
  for (const h of step.hooks || []) { // a tensor hook replaced the gradient before this node ran
    const prev = st.tensorFlow.get(h.tensor);
    st.tensorFlow.set(h.tensor, { sum: h.grad_out, parts: prev?.parts ?? [], hook: { before: h.grad_in, after: h.grad_out } });
  }
  st.done.add(step.node);
  st.pending.delete(step.node);
  st.sent = [];
  (node?.next || []).forEach(([m], slot) => {
    const g = step.grad_inputs?.[slot];
    if (m == null || !g) return;
    const route = tl.graph.routes.get(`${step.node}#${slot}`);
    st.sent.push({ from: step.node, slot, to: m, values: g, route });
    st.pending.add(m);
    if (route?.via) {
      const prev = st.tensorFlow.get(route.via);
      const parts = [...(prev?.parts || []), { from: step.node, slot, values: g }];
      st.tensorFlow.set(route.via, { sum: addValues(prev?.sum ?? null, g), parts });
    }
    for (const ek of route?.edges || []) st.edgeGrad.set(ek, g);
  });
}

/** The source line to highlight for an entry: the op's line, or in backward the line that made the node. */
export function lineOf(tl, entry) {
  if (!entry) return null;
  if (entry.kind === "forward") return tl.trace.forward[entry.index].line ?? null;
  if (entry.kind === "error") return tl.trace.backward[entry.pass].error?.line ?? tl.trace.backward[entry.pass].line ?? null;
  const step = tl.trace.backward[entry.pass].steps[entry.index];
  return tl.graph.tnodes.get(step.node)?.line ?? tl.trace.backward[entry.pass].line ?? null;
}
