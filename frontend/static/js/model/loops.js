// Training loops (Trace.loops): which recorded iteration each forward step, backward pass and timeline
// step belongs to, where each recorded iteration starts, and the graph groups that draw iterations in order.
import { flat, makeValues, toNum } from "./values.js";

const flatNums = (v) => (flat(v) ?? []).map(toNum); // summarised Values (statistics only): no numbers

/** Group key of a recorded iteration's box in the graph. */
export const iterationKey = (loopId, index) => `g:it:${loopId}:${index}`;

/**
 * Every recorded iteration of every loop, in program order (an enclosing iteration before those nested in it):
 * {loop, index, forward, backward, params, key, parentKey, label, pos}. A nested loop's iterations (Loop.parent)
 * sit inside the parent's iteration `parent_index` and are labelled "iteration p › i".
 */
export function recordedIterations(trace) {
  const out = [];
  for (const loop of trace.loops || []) {
    const parentKey = loop.parent ? iterationKey(loop.parent, loop.parent_index) : null;
    for (const r of loop.recorded || []) {
      out.push({
        loop: loop.id, index: r.index, forward: r.forward || [0, 0], backward: r.backward || [], params: r.params ?? null,
        key: iterationKey(loop.id, r.index), parentKey,
        label: loop.parent ? `iteration ${loop.parent_index} › ${r.index}` : `iteration ${r.index}`,
      });
    }
  }
  if (out.some((it) => it.parentKey)) out.sort((a, b) => a.forward[0] - b.forward[0] || (b.forward[1] - b.forward[0]) - (a.forward[1] - a.forward[0]));
  out.forEach((it, pos) => { it.pos = pos; });
  return out;
}

/** The recorded iteration (from recordedIterations) that holds forward step `i`, or null: the innermost one. */
export function iterationOfForward(iters, i) {
  let best = null;
  for (const it of iters) {
    if (i >= it.forward[0] && i < it.forward[1] && (!best || it.forward[1] - it.forward[0] < best.forward[1] - best.forward[0])) best = it;
  }
  return best;
}

/**
 * Adds one group per recorded iteration to a drawable graph (model/graph.js), labelled "iteration i",
 * around the nodes its forward steps made; module groups made inside it nest in it. Program-wide nodes
 * (tensors made before the loop, AccumulateGrad of leaves shared by every iteration) stay outside.
 */
export function addIterationGroups(g, trace) {
  const iters = recordedIterations(trace);
  if (!iters.length) return g;
  const of = (seq) => (Number.isFinite(seq) ? iterationOfForward(iters, seq) : null);
  for (const it of iters) {
    g.groups.set(it.key, { key: it.key, path: it.label, label: it.label, parent: it.parentKey, members: [], depth: it.parentKey ? 1 : 0, seq: it.forward[0], iteration: it });
  }
  for (const grp of g.groups.values()) {
    if (grp.iteration || grp.parent) continue;
    const it = of(grp.seq);
    if (it && (grp.last ?? grp.seq) < it.forward[1]) grp.parent = it.key; // a module call around the loop stays outside it
  }
  for (const d of g.nodes.values()) {
    if (d.group !== null || d.kind === "accumulate" || d.kind === "leaf") continue;
    const it = of(d.seq);
    if (!it) continue;
    d.group = it.key;
    g.groups.get(it.key).members.push(d.key);
  }
  for (const it of iters) if (!g.groups.get(it.key).members.length && ![...g.groups.values()].some((x) => x.parent === it.key)) g.groups.delete(it.key);
  return g;
}

/**
 * Per timeline step, the position (in recordedIterations) of the iteration it belongs to, -1 outside
 * every recorded iteration: an Int32Array of tl.total + 1 entries (step 0 is before anything ran).
 */
export function stepIterations(tl, iters) {
  const out = new Int32Array(tl.total + 1).fill(-1);
  if (!iters.length) return out;
  const byPass = new Map();
  for (const it of iters) for (const p of it.backward) if (!byPass.has(p) || iters[byPass.get(p)].forward[1] - iters[byPass.get(p)].forward[0] > it.forward[1] - it.forward[0]) byPass.set(p, it.pos);
  tl.entries.forEach((e, i) => {
    if (e.kind === "forward") out[i + 1] = iterationOfForward(iters, e.index)?.pos ?? -1;
    else out[i + 1] = byPass.get(e.pass) ?? -1;
  });
  return out;
}

/** First and last timeline step of each recorded iteration ({start, end}, null when none of its steps is on the timeline). */
export function iterationSpans(stepIter, count) {
  const spans = Array.from({ length: count }, () => null);
  for (let k = 1; k < stepIter.length; k++) {
    const p = stepIter[k];
    if (p < 0) continue;
    if (!spans[p]) spans[p] = { start: k, end: k };
    else spans[p].end = k;
  }
  return spans;
}

/**
 * The loop model the page reads: iterations, per-step membership and spans. A function of (trace, timeline);
 * it also gives the timeline the values tensors had when a recorded iteration began after a folded stretch.
 */
export function buildLoops(trace, tl) {
  const iters = recordedIterations(trace);
  const stepIter = stepIterations(tl, iters);
  const model = { loops: trace.loops || [], iters, stepIter, spans: iterationSpans(stepIter, iters.length), omitted: trace.omitted ?? null };
  repairFolded(trace, tl, model);
  return model;
}

/**
 * After folded iterations, a tensor the loop changes in place (a parameter) would show its last recorded value,
 * which is older than the iteration on screen. From the first step of such an iteration it shows the value its
 * first in-place write there started from: `optim.before`, or after ± u for `w -= u` / `w += u`.
 */
export function repairFolded(trace, tl, model) {
  if (!(tl.dataWrites instanceof Map)) return;
  const stepOf = new Map();
  tl.entries.forEach((e, i) => { if (e.kind === "forward" && !stepOf.has(e.index)) stepOf.set(e.index, i + 1); });
  const valueAt = (tid, k) => { // the last write of tid at or before step k
    const ws = tl.dataWrites.get(tid) || [];
    let v = null;
    for (const w of ws) if (w.k <= k) v = w.v;
    return v;
  };
  const last = new Map(); // loop id -> its previous recorded iteration
  model.iters.forEach((it, pos) => {
    const prev = last.get(it.loop), span = model.spans[pos];
    last.set(it.loop, it);
    if (!span || !prev || it.index === prev.index + 1) return;
    if (it.params) { // the tracer's own record of the parameters as this iteration began: exact
      for (const [tid, v] of Object.entries(it.params)) if (v) insertWrite(tl, tid, span.start, v);
      return;
    }
    const seen = new Set();
    for (let i = it.forward[0]; i < it.forward[1]; i++) {
      const s = trace.forward[i];
      for (const [j, o] of (s.outputs || []).entries()) {
        if (seen.has(o)) continue;
        seen.add(o);
        if (!(s.inputs || []).includes(o) || !s.values?.[j]) continue; // made here, not changed in place
        const before = s.optim?.param === o ? s.optim.before : undoUpdate(s, o, s.values[j], valueAt(s.inputs[1], (stepOf.get(i) ?? 1) - 1), tl.graph.tensors);
        if (before) insertWrite(tl, o, span.start, before);
      }
    }
  });
}

function insertWrite(tl, tid, k, v) {
  const ws = tl.dataWrites.get(tid) ?? [];
  const at = ws.findIndex((w) => w.k >= k);
  ws.splice(at < 0 ? ws.length : at, 0, { k, v });
  tl.dataWrites.set(tid, ws);
}

/** Values of parameter `tid` as the recorded iteration holding forward step `i` began (Loop.recorded[].params), or null. */
export function paramsAtStart(trace, i, tid) {
  let best = null;
  for (const loop of trace.loops || []) {
    for (const r of loop.recorded || []) {
      const [a, b] = r.forward || [0, 0];
      if (i >= a && i < b && r.params?.[tid] && (!best || b - a < best.forward[1] - best.forward[0])) best = r;
    }
  }
  return best ? { start: best.forward[0], value: best.params[tid] } : null;
}

// w.sub_(u) / w.add_(u) (w -= u, w += u) with u a tensor other than w's own .grad: w was after ± u.
function undoUpdate(s, o, after, u, tensors) {
  if (!/^(sub_|add_)$/.test(s.op) || s.inputs[0] !== o || !u || tensors.get(s.inputs[1])?.grad_of === o) return null;
  const a = flatNums(after), d = flatNums(u);
  if (!a.length || a.length !== d.length) return null;
  const sign = s.op === "sub_" ? 1 : -1;
  return makeValues(after.shape, a.map((x, j) => x + sign * d[j]));
}

/** The recorded iteration on screen at step k: the one step k is in, else the last one that started before k. */
export function iterationAt(model, k) {
  if (!model.iters.length) return null;
  const p = model.stepIter[Math.max(0, Math.min(k, model.stepIter.length - 1))];
  if (p >= 0) return model.iters[p];
  let best = null;
  model.spans.forEach((s, i) => { if (s && s.start <= k) best = model.iters[i]; });
  return best;
}

/** Points of a series ready to draw: [{i, v}] with finite numbers only ("nan" and null leave gaps). */
export function seriesPoints(series) {
  const out = [];
  (series?.values || []).forEach((v, i) => {
    const n = typeof v === "number" ? v : NaN;
    out.push({ i, v: Number.isFinite(n) ? n : null });
  });
  return out;
}

/** The collapsed-group set that shows iteration `key` open and every other recorded iteration folded. */
export function showIteration(g, collapsed, key) {
  const out = new Set(collapsed);
  const open = new Set();
  for (let k = key; k; k = g.groups.get(k)?.parent) open.add(k); // a nested iteration opens with the one around it
  for (const [k, grp] of g.groups) if (grp.iteration) (open.has(k) ? out.delete(k) : out.add(k));
  return out;
}

/** Keys of the nn.Module groups (what the Modules button folds), without the iteration boxes. */
export const moduleGroups = (g) => [...g.groups.keys()].filter((k) => !g.groups.get(k).iteration);

/** Whether a loop was folded (some iterations not recorded): then the page shows one iteration at a time. */
export const foldsIterations = (model) => model.loops.some((l) => l.iterations > (l.recorded || []).length);
