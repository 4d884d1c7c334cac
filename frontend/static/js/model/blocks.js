// Steps at block level: which closed module block a step runs in, the block's own steps (its engine order in a
// backward pass, its ops in forward) and what crosses its border (gradients entering through its outputs, leaving
// through its inputs). Pure: a function of (trace, k, the closed groups), the view's only part in it.
import { entryAt } from "./timeline.js";
import { opKind } from "./names.js";
import { addValues, flat } from "./values.js";

const memo = new WeakMap(); // timeline → Map of cached answers (blocks never change for a timeline)
const cache = (tl, key, make) => {
  if (!memo.has(tl)) memo.set(tl, new Map());
  const m = memo.get(tl);
  if (!m.has(key)) m.set(key, make());
  return m.get(key);
};

const isBlock = (grp) => !!grp && (!!grp.fold || (!!grp.module && !grp.call && !grp.iteration && !grp.book));

/**
 * The closed block drawn in place of graph node `key`: {box, block, fold} — `box` the outermost closed group around
 * it (what is drawn), `block` the module call narrated (for a folded "Block ×N" the folded block the node is in),
 * `fold` the fold group's key or null. Null when the node is drawn itself or sits in a closed call group only.
 */
export function shownBlock(g, collapsed, key) {
  if (!collapsed?.size) return null;
  const chain = [];
  for (let k = g.nodes.get(key)?.group; k; k = g.groups.get(k)?.parent) chain.push(k);
  let at = -1;
  for (let i = 0; i < chain.length; i++) if (collapsed.has(chain[i])) at = i; // the outermost wins
  if (at < 0) return null;
  const box = chain[at], grp = g.groups.get(box);
  if (!isBlock(grp)) return null;
  if (!grp.fold) return { box, block: box, fold: null };
  const inner = chain[at - 1]; // the folded module call holding the node
  return inner && isBlock(g.groups.get(inner)) ? { box, block: inner, fold: box } : null;
}

/** Trace node ids and tensor ids inside group `gk` (its members and every group nested in it). */
export function blockMembers(tl, gk) {
  return cache(tl, `m:${gk}`, () => {
    const g = tl.graph, nodes = new Set(), tensors = new Set();
    for (const d of g.nodes.values()) {
      for (let k = d.group; k; k = g.groups.get(k)?.parent) {
        if (k !== gk) continue;
        (d.type === "op" ? nodes : tensors).add(d.id);
        break;
      }
    }
    return { nodes, tensors };
  });
}

/** The graph key a forward step is drawn as: its node, else its first output. */
export const forwardKey = (s) => (s.node != null ? `n:${s.node}` : (s.outputs || []).length ? `t:${s.outputs[0]}` : null);

/** Forward step indices that run inside block `gk`, in program order. */
export function blockForward(tl, gk) {
  return cache(tl, `f:${gk}`, () => {
    const { nodes, tensors } = blockMembers(tl, gk);
    const grp = tl.graph.groups.get(gk), out = [];
    (tl.trace.forward || []).forEach((s, i) => {
      if (s.kind === "optim" || s.bookkeeping) return;
      if (grp?.last !== undefined && (i < grp.seq || i > grp.last)) return; // a module call: the steps it ran (not a parameter's init)
      if ((s.node != null && nodes.has(s.node)) || (s.node == null && (s.outputs || []).some((o) => tensors.has(o)))) out.push(i);
    });
    return out;
  });
}

/** The block's tensors read from outside it (inputs) and those read outside it or never read (outputs). */
export function blockPorts(tl, gk) {
  return cache(tl, `p:${gk}`, () => {
    const steps = new Set(blockForward(tl, gk)), fwd = tl.trace.forward || [];
    const made = new Set(), inputs = [], outputs = [];
    for (const i of steps) for (const o of fwd[i].outputs || []) made.add(o);
    for (const i of steps) for (const t of fwd[i].inputs || []) if (!made.has(t) && !inputs.includes(t)) inputs.push(t);
    const readOutside = new Set();
    fwd.forEach((s, i) => { if (!steps.has(i)) for (const t of s.inputs || []) readOutside.add(t); });
    const roots = new Set((tl.trace.backward || []).map((p) => p.root));
    for (const i of steps) {
      for (const o of fwd[i].outputs || []) {
        if (tl.graph.tensors.get(o)?.grad_of) continue;
        if ((readOutside.has(o) || roots.has(o)) && !outputs.includes(o)) outputs.push(o);
      }
    }
    return { inputs, outputs };
  });
}

/** Indices (into pass p's steps) of the nodes of block `gk` in the engine's order. */
export function blockSpan(tl, p, gk) {
  return cache(tl, `s:${p}:${gk}`, () => {
    const { nodes } = blockMembers(tl, gk);
    const out = [];
    (tl.trace.backward[p]?.steps || []).forEach((s, j) => { if (nodes.has(s.node)) out.push(j); });
    return out;
  });
}

/**
 * What crosses block `gk`'s border in backward pass p, from the trace's sends:
 * - enter: Map node id → [{from, slot, nr, values, j}] gradients sent by nodes outside to the block's node
 * - leave: [{from, slot, to, nr, via, values, j, param}] gradients the block's nodes send out (`param`: to a leaf's
 *   AccumulateGrad, a parameter whose box is elsewhere)
 * - root: the pass starts inside the block (its root's grad_fn is one of the block's nodes)
 */
export function blockBorder(tl, p, gk) {
  return cache(tl, `b:${p}:${gk}`, () => {
    const { nodes } = blockMembers(tl, gk);
    const pass = tl.trace.backward[p], g = tl.graph;
    const enter = new Map(), leave = [];
    (pass?.steps || []).forEach((s, j) => {
      const inside = nodes.has(s.node);
      const node = g.tnodes.get(s.node);
      (node?.next || []).forEach(([m, nr], slot) => {
        const values = s.grad_inputs?.[slot];
        if (m == null || !values || nodes.has(m) === inside) return;
        if (!inside) {
          if (!enter.has(m)) enter.set(m, []);
          enter.get(m).push({ from: s.node, slot, nr: nr ?? 0, values, j });
          return;
        }
        const route = g.routes.get(`${s.node}#${slot}`);
        leave.push({ from: s.node, slot, to: m, nr: nr ?? 0, via: route?.via ?? null, values, j, param: opKind(g.tnodes.get(m) || {}) === "accumulate" });
      });
    });
    const rootFn = g.tensors.get(pass?.root)?.grad_fn;
    return { enter, leave, root: rootFn != null && nodes.has(rootFn) };
  });
}

/**
 * Gradients leaving block `gk` in pass p up to step index j, one per place they go: {via, to, nr, parts, sum, param}.
 * `sum` is torch's own number where it can be: the one part, or the receiving node's grad_output when every
 * gradient it got came out of this block (a sum of statistics-only parts has no min/max of its own).
 */
export function leavingAt(tl, p, gk, j = Infinity) {
  const { leave } = blockBorder(tl, p, gk);
  const out = new Map();
  for (const x of leave) {
    if (x.j > j) continue;
    const key = x.via != null ? `t:${x.via}` : `n:${x.to}:${x.nr}`;
    if (!out.has(key)) out.set(key, { via: x.via, to: x.to, nr: x.nr, parts: [], sum: null, param: x.param });
    const o = out.get(key);
    o.parts.push(x);
    o.sum = addValues(o.sum, x.values);
  }
  for (const o of out.values()) {
    if (o.parts.length < 2 || o.parts.every((x) => flat(x.values))) continue;
    const received = receivedBy(tl, p, o.to, o.nr);
    const all = sendersTo(tl, p, o.to, o.nr);
    if (received && all === o.parts.length) o.sum = received;
  }
  return [...out.values()];
}

// What node m received on output nr in pass p (the trace's grad_outputs).
function receivedBy(tl, p, m, nr) {
  const s = tl.trace.backward[p].steps.find((x) => x.node === m);
  return s?.grad_outputs?.[nr] ?? null;
}
/** How many gradients node m got on its output nr in pass p (sends with values). */
export function sendersTo(tl, p, m, nr) {
  let n = 0;
  for (const s of tl.trace.backward[p].steps) {
    (tl.graph.tnodes.get(s.node)?.next || []).forEach(([to, r], slot) => { if (to === m && (r ?? 0) === nr && s.grad_inputs?.[slot]) n++; });
  }
  return n;
}

/** The closed block step k runs in, as narrated (a folded block, not its fold; null: the node is drawn itself). */
export function blockAt(tl, k, collapsed) {
  const e = entryAt(tl, k);
  if (!e || (e.kind !== "forward" && e.kind !== "backward")) return null;
  const key = e.kind === "forward" ? forwardKey(tl.trace.forward[e.index]) : `n:${tl.trace.backward[e.pass].steps[e.index].node}`;
  if (e.kind === "forward" && (tl.trace.forward[e.index].kind === "optim" || tl.trace.forward[e.index].bookkeeping)) return null;
  return key ? shownBlock(tl.graph, collapsed, key)?.block ?? null : null;
}

// The timeline step of a block's first or last step in the same phase as step k (a pass's nodes, or forward ops).
function blockEdge(tl, k, gk, last) {
  const e = entryAt(tl, k);
  const idx = e.kind === "backward" ? blockSpan(tl, e.pass, gk) : blockForward(tl, gk);
  const want = last ? idx[idx.length - 1] : idx[0];
  const same = (x) => x.kind === e.kind && x.index === want && (e.kind !== "backward" || x.pass === e.pass);
  if (last) { for (let j = k; j <= tl.total; j++) if (same(tl.entries[j - 1])) return j; }
  else for (let j = k; j >= 1; j--) if (same(tl.entries[j - 1])) return j;
  return k;
}

/** Step by block: from step k, where the gradient leaves the closed block step k runs in (its last node in that pass,
 * over any steps of other blocks in between; forward: its last op); from a block's last step (or outside blocks) the
 * same for the next step's block, else k + 1. */
export function nextBlockEnd(tl, k, collapsed) {
  if (k >= tl.total) return tl.total;
  const here = blockAt(tl, k, collapsed);
  const end = here ? blockEdge(tl, k, here, true) : k;
  if (end > k) return end;
  const gk = blockAt(tl, k + 1, collapsed);
  return gk ? blockEdge(tl, k + 1, gk, true) : k + 1;
}

/** Back by block: the step just before the first step of the block step k runs in (else k − 1). */
export function prevBlockStart(tl, k, collapsed) {
  if (k <= 0) return 0;
  const gk = blockAt(tl, k, collapsed);
  return (gk ? blockEdge(tl, k, gk, false) : k) - 1;
}
