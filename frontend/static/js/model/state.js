// What the page shows at step k, as plain data computed from the trace and k alone (the view only draws it).
import { buildGraph } from "./graph.js";
import { buildTimeline, entryAt, flowAt, dataAt, gradAt, isVisible, lineOf } from "./timeline.js";
import { warningsAt, causeAt, cutsAt } from "./problems.js";
import { narrate } from "../teach/narration.js";

const timelines = new WeakMap();

/** The timeline of a trace (built once per trace object). */
export function timelineOf(trace) {
  if (!timelines.has(trace)) timelines.set(trace, buildTimeline(trace, buildGraph(trace)));
  return timelines.get(trace);
}

/**
 * Everything a renderer needs at step k. `src` is a timeline (buildTimeline) or a trace.
 * The result is never changed afterwards: asking for another step returns a new object.
 * - tensors: Map tid → {visible, data, grad, flow, fan, hooked}  (flow: dL/dt arrived so far in this pass)
 * - nodes: Map node id → "future" | "idle" | "running" | "ran" | "pending"
 * - edges: Map edge key → the gradient that travelled it in this pass
 * - warnings: the warnings raised by this step; problem: the error cause this step shows (or null)
 * - cuts: at a pass's end, leaves left without .grad because detach()/no_grad cut them off the graph
 * - narration: {title, text} of this step (`source`, the program text, lets it quote lines and name expressions;
 *   `collapsed`, the view's closed groups, tells a step inside a closed module block at block level)
 */
export function stateAt(src, k, { source = "", collapsed = null } = {}) {
  const tl = src && src.entries ? src : timelineOf(src);
  k = Math.max(0, Math.min(tl.total, k | 0));
  const entry = entryAt(tl, k);
  const flow = flowAt(tl, k);
  const trace = tl.trace;
  const stepData = !entry ? null : entry.kind === "forward" ? trace.forward[entry.index]
    : entry.kind === "error" ? trace.backward[entry.pass] : trace.backward[entry.pass].steps[entry.index];
  let tensors = null, nodes = null, edges = null, said = null;
  const state = {
    k, total: tl.total, entry, flow, stepData,
    phase: !entry ? "start" : entry.kind,
    visible: (key) => isVisible(tl, key, k),
    data: (tid) => dataAt(tl, tid, k),
    grad: (tid) => gradAt(tl, tid, k),
    line: lineOf(tl, entry),
    warnings: warningsAt(tl, k),
    problem: causeAt(tl, k),
    cuts: cutsAt(tl, k),
    get tensors() { return tensors || (tensors = tensorStates(tl, k, flow)); },
    get nodes() { return nodes || (nodes = nodeStates(tl, k, flow)); },
    get edges() { return edges || (edges = new Map(flow ? flow.edgeGrad : [])); },
    get narration() { return said || (said = narrate(tl, k, { source, collapsed })); },
  };
  return state;
}

function tensorStates(tl, k, flow) {
  const out = new Map();
  for (const t of tl.graph.tensors.values()) {
    const tf = flow?.tensorFlow.get(t.id);
    out.set(t.id, {
      visible: isVisible(tl, `t:${t.id}`, k) || (t.grad_of != null && isVisible(tl, `t:${t.grad_of}`, k)),
      data: dataAt(tl, t.id, k), grad: gradAt(tl, t.id, k),
      flow: tf?.sum ?? null, fan: tf?.parts.length ?? 0, hooked: !!tf?.hook,
    });
  }
  return out;
}

function nodeStates(tl, k, flow) {
  const out = new Map();
  const running = flow?.current?.node;
  for (const n of tl.graph.tnodes.values()) {
    let s = isVisible(tl, `n:${n.id}`, k) ? "idle" : "future";
    if (flow?.pending.has(n.id)) s = "pending";
    if (flow?.done.has(n.id)) s = "ran";
    if (n.id === running) s = "running";
    out.set(n.id, s);
  }
  return out;
}
