// Trace → drawable graph: tensor and autograd-node boxes, edges, gradient routes and module groups.
import { opKind, shortNodeName, tensorName, namesOf } from "./names.js";
import { addIterationGroups } from "./loops.js";
import { bookkeeping as bookkeepingOf } from "./bookkeeping.js";
import { buildModuleGroups, addCallGroups, foldRepeats, addBookkeepingGroup } from "./modules.js";

const T = (id) => `t:${id}`;
const N = (id) => `n:${id}`;

/**
 * Build the drawable graph of a trace. Keys are "t:<tensor id>" and "n:<node id>".
 * Returns { nodes: Map key→node, edges: Map key→edge, routes: Map "node#slot"→route, groups, ... }.
 */
// `bookkeeping`: draw optimizer state, clipping norms and zero_grad steps too (model/bookkeeping.js); off by default.
export function buildGraph(trace, { source = "", bookkeeping = false } = {}) {
  const tensors = new Map((trace.tensors || []).map((t) => [t.id, t]));
  const tnodes = new Map((trace.nodes || []).map((n) => [n.id, n]));
  const found = bookkeepingOf(trace), book = bookkeeping ? { steps: new Set(), tensors: new Set() } : found;
  const skip = (i) => book.steps.has(i);
  const forward = trace.forward || [];
  const g = { nodes: new Map(), edges: new Map(), routes: new Map(), groups: new Map(), gradChip: new Map(), tensors, tnodes, book };

  const stepOfNode = new Map();
  // Tensors some step computes another tensor from (updating a .grad's own owner, as optimizers do, doesn't count).
  const feeds = new Set();
  forward.forEach((s, i) => {
    if (s.node != null && !stepOfNode.has(s.node)) stepOfNode.set(s.node, i);
    if (skip(i)) return;
    for (const t of s.inputs || []) {
      const owner = tensors.get(t)?.grad_of;
      if ((s.outputs || []).some((o) => o !== t && o !== owner)) feeds.add(t);
    }
  });
  const roots = new Set((trace.backward || []).map((p) => p.root));
  const consumed = new Set(forward.flatMap((s) => s.inputs || []));

  // producers(t): every autograd node that wrote t (grad_fn, AccumulateGrad, earlier in-place versions).
  const producers = new Map();
  const addProducer = (tid, nid) => {
    if (!producers.has(tid)) producers.set(tid, new Set());
    producers.get(tid).add(nid);
  };
  for (const t of tensors.values()) if (t.grad_fn) addProducer(t.id, t.grad_fn);
  for (const n of tnodes.values()) if (n.tensor && opKind(n) === "accumulate") addProducer(n.tensor, n.id);
  forward.forEach((s) => s.node != null && (s.outputs || []).forEach((o) => addProducer(o, s.node)));

  // Tensors: a .grad tensor nobody computes with is drawn as a chip on its owner, not as a box.
  const names = namesOf(trace, source); // shared with the card, narration and panel
  g.names = names;
  for (const t of tensors.values()) {
    if (t.grad_of && tensors.has(t.grad_of) && !feeds.has(t.id)) {
      if (!g.gradChip.has(t.grad_of)) g.gradChip.set(t.grad_of, []);
      g.gradChip.get(t.grad_of).push(t.id); // several when .grad was replaced (e.g. zero_grad(set_to_none))
      continue;
    }
    if (book.tensors.has(t.id)) continue;
    g.nodes.set(T(t.id), {
      key: T(t.id), type: "tensor", id: t.id, kind: tensorKind(t, roots, consumed),
      label: tensorName(trace, names, t.id, 1), derived: !t.name, // unnamed: the expression that made it
      tensor: t, seq: Infinity, group: null,
    });
  }
  for (const n of tnodes.values()) {
    const s = stepOfNode.get(n.id);
    g.nodes.set(N(n.id), {
      key: N(n.id), type: "op", id: n.id, kind: opKind(n), label: shortNodeName(n.name),
      op: s === undefined ? null : forward[s].op, node: n, seq: s ?? Infinity, hidden: s === undefined, group: null,
    });
  }
  forward.forEach((s, i) => {
    if (skip(i)) return;
    for (const t of [...(s.inputs || []), ...(s.outputs || [])]) {
      const d = g.nodes.get(T(t));
      if (d && d.seq > i) d.seq = i;
    }
  });

  const addEdge = (source, target, kind, extra = {}) => {
    if (!g.nodes.has(source) || !g.nodes.has(target) || source === target) return null;
    const key = `${kind}:${source}>${target}`;
    if (!g.edges.has(key)) g.edges.set(key, { key, source, target, kind, ...extra });
    return key;
  };

  // Produce edges: op → each tensor it output; AccumulateGrad → its leaf.
  forward.forEach((s) => s.node != null && (s.outputs || []).forEach((o) => addEdge(N(s.node), T(o), "data")));
  for (const n of tnodes.values()) {
    if (!n.tensor) continue;
    if (opKind(n) === "accumulate") addEdge(N(n.id), T(n.tensor), "accumulate");
    else addEdge(N(n.id), T(n.tensor), "data");
  }
  for (const t of tensors.values()) if (t.grad_fn) addEdge(N(t.grad_fn), T(t.id), "data");

  buildRoutes(g, trace, stepOfNode, producers);

  // Untracked ops (no_grad, detach, no input requiring grad): a dashed "cut" edge from input to output.
  forward.forEach((s, i) => {
    if (skip(i) || s.node != null || !(s.inputs || []).length || /_like$/.test(s.op)) return; // ones_like(x) only reads a shape
    const cut = !s.grad_enabled || s.inputs.some((t) => tensors.get(t)?.requires_grad) || /detach/.test(s.op);
    for (const i of s.inputs) for (const o of s.outputs || []) {
      if (i !== o && tensors.get(i)?.grad_of !== o) addEdge(T(i), T(o), cut ? "untracked" : "plain", { op: s.op });
    }
  });

  placeSequence(g);
  buildModuleGroups(g, trace, skip);
  addCallGroups(g, trace, skip);
  foldRepeats(g);
  if (bookkeeping) addBookkeepingGroup(g, found);
  return addIterationGroups(g, trace); // training loops: one box per recorded iteration (model/loops.js)
}

function tensorKind(t, roots, consumed) {
  if (t.grad_of) return "grad";
  if (t.requires_grad && t.is_leaf) return "leaf";
  if (!t.requires_grad) return "constant";
  if (roots.has(t.id) || !consumed.has(t.id)) return "output";
  return "intermediate";
}

// Map each (node, slot) of next_functions to the drawn edges its gradient travels along.
function buildRoutes(g, trace, stepOfNode, producers) {
  const forward = trace.forward || [];
  const inherited = new Map();
  const claimed = new Map();
  // Nodes with a forward step first, in program order; hidden ones (e.g. TBackward0 inside linear)
  // are queued by the referrer that hands them its unmatched inputs; orphans come last.
  const withStep = [...g.tnodes.values()].filter((n) => stepOfNode.has(n.id))
    .sort((a, b) => stepOfNode.get(a.id) - stepOfNode.get(b.id));
  const orphans = [...g.tnodes.values()].filter((n) => !stepOfNode.has(n.id));
  const queue = [...withStep];
  const seen = new Set();
  for (let qi = 0; qi < queue.length || orphans.length; qi++) {
    if (qi >= queue.length) queue.push(orphans.shift());
    const n = queue[qi];
    if (seen.has(n.id) || opKind(n) === "accumulate") continue;
    const s = stepOfNode.get(n.id);
    const own = s === undefined ? null : forward[s];
    seen.add(n.id);
    const inh = inherited.get(n.id);
    const owner = own ? n.id : inh?.owner ?? null;
    const inputs = own ? (own.inputs || []).filter((t) => !(own.outputs || []).includes(t)) : inh?.inputs || [];
    const unmatched = new Set(inputs);
    const handoff = [];
    (n.next || []).forEach(([m, _nr], slot) => {
      if (m == null) return;
      const t = [...unmatched, ...inputs].find((tid) => producers.get(tid)?.has(m));
      if (t !== undefined && g.nodes.has(T(t))) {
        unmatched.delete(t);
        if (owner) claimOf(claimed, owner).add(t);
        const e1 = addRouteEdge(g, T(t), N(n.id), "data");
        const e2 = g.edges.has(`accumulate:${N(m)}>${T(t)}`) ? `accumulate:${N(m)}>${T(t)}` : addRouteEdge(g, N(m), T(t), "data");
        g.routes.set(`${n.id}#${slot}`, { edges: [e1, e2].filter(Boolean), via: t, target: m });
      } else {
        const e = addRouteEdge(g, N(m), N(n.id), "autograd");
        g.routes.set(`${n.id}#${slot}`, { edges: e ? [e] : [], via: null, target: m });
        handoff.push(m);
      }
    });
    for (const m of handoff) {
      const mn = g.tnodes.get(m);
      if (mn && opKind(mn) !== "accumulate" && !stepOfNode.has(m) && !inherited.has(m)) {
        inherited.set(m, { inputs: [...unmatched], owner });
        const hidden = g.nodes.get(N(m));
        if (hidden && g.nodes.get(N(n.id))) hidden.inheritFrom = N(n.id);
        queue.push(mn);
      }
    }
  }
  // Inputs no gradient flows through (constants, ints) still feed the op: plain data edges.
  forward.forEach((s) => {
    if (s.node == null) return;
    const cl = claimed.get(s.node) || new Set();
    for (const t of s.inputs || []) if (!cl.has(t) && !(s.outputs || []).includes(t)) addRouteEdge(g, T(t), N(s.node), "data");
  });
}

function claimOf(claimed, owner) {
  if (!claimed.has(owner)) claimed.set(owner, new Set());
  return claimed.get(owner);
}

function addRouteEdge(g, source, target, kind) {
  if (!g.nodes.has(source) || !g.nodes.has(target) || source === target) return null;
  const key = `${kind}:${source}>${target}`;
  if (!g.edges.has(key)) g.edges.set(key, { key, source, target, kind });
  return key;
}

// Hidden nodes and AccumulateGrad appear with the first recorded op that links to them (that is
// when autograd creates them); tensors nobody stepped on appear with their producer.
function placeSequence(g) {
  const refs = [...g.tnodes.values()];
  for (let round = 0, changed = true; changed && round < 50; round++) {
    changed = false;
    for (const n of refs) {
      const from = g.nodes.get(N(n.id));
      for (const [m] of n.next || []) {
        const to = m == null ? null : g.nodes.get(N(m));
        if (to && to.hidden && from.seq < to.seq) { to.seq = from.seq; changed = true; }
      }
    }
  }
  for (const e of g.edges.values()) {
    const s = g.nodes.get(e.source), t = g.nodes.get(e.target);
    if (t.type === "tensor" && t.seq === Infinity && s.seq !== Infinity) t.seq = s.seq;
  }
}

/** Group keys from a node's innermost group up to the outermost. */
export function groupChain(g, key) {
  const out = [];
  let grp = g.nodes.get(key)?.group;
  while (grp) { out.push(grp); grp = g.groups.get(grp)?.parent; }
  return out;
}
