// Parameter updates narrated with their numbers: optimizer.step() (ForwardStep.optim: SGD with momentum,
// Adam/AdamW, others by their state's names) and the hand-written `w -= lr * w.grad` under torch.no_grad().
import { entryAt, dataAt, gradAt } from "../model/timeline.js";
import { flat, makeValues, numel, toNum } from "../model/values.js";
import { fmtNum, fmtValues } from "../model/format.js";
import { namesOf, tensorName } from "../model/names.js";
import { paramsAtStart } from "../model/loops.js";
import { fmtHyper, updatePosition } from "./update-card.js";

export { fmtHyper };

const V = (v) => fmtValues(v, { maxItems: 6 });

/** { title, text } for step k when it updates a parameter, else null (narration.js then says the rest). */
export function narrateUpdate(tl, k, { source = "" } = {}) {
  const e = entryAt(tl, k);
  if (!e || e.kind !== "forward") return null;
  const s = tl.trace.forward[e.index];
  const ctx = context(tl, source, s);
  const text = s.optim ? (flat(s.optim.grad) && flat(s.optim.after) ? optimText(ctx, s) : summarisedText(ctx, s)) : manualUpdate(tl, ctx, e.index, k);
  if (!text) return null;
  if (!s.optim) return { title: "By hand · parameter update", text };
  const [i, n] = updatePosition(tl.trace.forward, e.index);
  return { title: `${s.optim.optimizer}.step() · parameter update${n > 1 ? ` ${i}/${n}` : ""}`, text };
}

function context(tl, source, s) {
  const names = namesOf(tl.trace, source);
  const line = s.line ? String(source).split("\n")[s.line - 1]?.trim() ?? "" : "";
  const where = s.line ? `Line ${s.line}${line ? `: ${line.length > 60 ? `${line.slice(0, 57)}…` : line}` : ""}` : "Step";
  // the quoted line already shows the call (`optimizer.step()`): say the source once
  const call = /\.step\s*\(/.test(line) ? "" : "optimizer.step(): ";
  return { line, where, call, name: (tid) => tensorName(tl.trace, names, tid) };
}

// The element the equation is written for: the scalar itself, else the first element with a non-zero gradient.
function pick(grad, ...vs) {
  const g = (flat(grad) ?? []).map(toNum);
  let i = g.findIndex((x) => Number.isFinite(x) && x !== 0);
  if (i < 0) i = 0;
  return { i, g: g[i] ?? NaN, vals: vs.map((v) => (flat(v) ? toNum(flat(v)[i]) : NaN)), scalar: numel(grad?.shape ?? []) <= 1 };
}

const num = (x) => (x < 0 ? `(${fmtNum(x)})` : fmtNum(x));

// A parameter too big for the trace to keep its values (statistics only): the update told by its statistics.
function summarisedText(ctx, s) {
  const o = s.optim;
  const w = ctx.name(o.param);
  const stat = (v, key) => (v && v[key] != null ? fmtNum(toNum(v[key])) : "?");
  return `${ctx.where} — ${ctx.call}${o.optimizer} (lr = ${fmtHyper(o.hyper?.lr)}) updates ${w} in place, outside autograd. `
    + `${w} has ${numel(o.after?.shape ?? [])} values (the trace keeps their statistics): mean ${stat(o.before, "mean")} → ${stat(o.after, "mean")}, `
    + `min ${stat(o.before, "min")} → ${stat(o.after, "min")}, max ${stat(o.before, "max")} → ${stat(o.after, "max")}; grad mean ${stat(o.grad, "mean")}.`;
}

function optimText(ctx, s) {
  const o = s.optim;
  const w = ctx.name(o.param);
  const h = o.hyper || {};
  const terms = o.terms || {};
  const p = pick(o.grad, o.before, o.after);
  const at = p.scalar ? w : `${w}[${p.i}]`;
  const [before, after] = p.vals;
  const hyper = Object.entries(h).filter(([, v]) => v !== 0 && v !== false && v !== null).map(([k, v]) => `${k} = ${Array.isArray(v) ? `(${v.map(fmtHyper).join(", ")})` : fmtHyper(v)}`).join(", ");
  const head = `${ctx.where} — ${ctx.call}${o.optimizer}${hyper ? ` (${hyper})` : ""} updates ${w} in place, outside autograd.`;
  const tail = numel(o.after?.shape ?? []) > 1 ? ` Now ${w} = ${V(o.after)}.` : "";
  const lr = h.lr;
  const name = String(o.optimizer || "");
  if (/^SGD$/i.test(name)) {
    const wd = h.weight_decay || 0;
    const mom = h.momentum || 0;
    const g = wd ? `(${w}.grad + ${fmtHyper(wd)}·${w})` : `${w}.grad`;
    if (!mom) return `${head} ${w} ← ${w} − lr·${g}: ${at} = ${fmtNum(before)} − ${fmtHyper(lr)} × ${num(p.g + wd * before)} = ${fmtNum(after)}.${tail}`;
    const buf = terms.momentum_buffer;
    const b = flat(buf) ? toNum(flat(buf)[p.i]) : (before - after) / lr;
    const first = flat(buf) && sameNums(flat(buf), flat(o.grad)) ? " (on the first step the buffer is just the gradient)" : "";
    return `${head} Momentum keeps a running direction per parameter, the momentum buffer: buf ← ${fmtHyper(mom)}·buf + ${h.dampening ? `(1 − ${fmtHyper(h.dampening)})·` : ""}${g}${first}, now buf = ${V(buf)}. `
      + `Then ${w} ← ${w} − lr·${h.nesterov ? `(${g} + ${fmtHyper(mom)}·buf)` : "buf"}: ${at} = ${fmtNum(before)} − ${fmtHyper(lr)} × ${num(b)} = ${fmtNum(after)}.${tail}`;
  }
  if (/^Adam/i.test(name) && flat(terms.exp_avg) && flat(terms.exp_avg_sq)) {
    const [b1, b2] = h.betas || [0.9, 0.999];
    const eps = h.eps ?? 1e-8;
    const t = toNum((flat(terms.step ?? { shape: [], values: h.step ?? 1 }) ?? [1])[0]) || 1;
    const m = toNum(flat(terms.exp_avg)[p.i]), v = toNum(flat(terms.exp_avg_sq)[p.i]);
    const mh = m / (1 - b1 ** t), vh = v / (1 - b2 ** t);
    const decay = h.weight_decay ? (/W$/i.test(name) ? ` First the decoupled weight decay: ${w} ← ${w} − lr·${fmtHyper(h.weight_decay)}·${w}.` : ` The gradient includes weight decay: grad + ${fmtHyper(h.weight_decay)}·${w}.`) : "";
    return `${head}${decay} Adam keeps two running averages per element: exp_avg m ← ${fmtHyper(b1)}·m + ${fmtHyper(1 - b1)}·grad = ${V(terms.exp_avg)} `
      + `and exp_avg_sq v ← ${fmtHyper(b2)}·v + ${fmtHyper(+(1 - b2).toPrecision(3))}·grad² = ${V(terms.exp_avg_sq)}; step t = ${t}. `
      + `${w} ← ${w} − lr·m̂/(√v̂ + eps) with m̂ = m/(1 − ${fmtHyper(b1)}^t), v̂ = v/(1 − ${fmtHyper(b2)}^t): `
      + `${at} = ${fmtNum(before)} − ${fmtHyper(lr)} × ${fmtNum(mh)}/(√${fmtNum(vh)} + ${fmtHyper(eps)}) = ${fmtNum(after)}.${tail}`;
  }
  if (/^RMSprop$/i.test(name) && flat(terms.square_avg) && !h.centered && !h.momentum) {
    const alpha = h.alpha ?? 0.99, eps = h.eps ?? 1e-8;
    const v = toNum(flat(terms.square_avg)[p.i]);
    return `${head} RMSprop keeps a running average of squared gradients per element: square_avg v ← ${fmtHyper(alpha)}·v + ${fmtHyper(+(1 - alpha).toPrecision(3))}·grad² = ${V(terms.square_avg)}. `
      + `${w} ← ${w} − lr·grad/(√v + eps): ${at} = ${fmtNum(before)} − ${fmtHyper(lr)} × ${num(p.g)}/(√${fmtNum(v)} + ${fmtHyper(eps)}) = ${fmtNum(after)}.${tail}`;
  }
  const named = Object.entries(terms).map(([k, v]) => `${k} = ${V(v)}`).join("; ");
  return `${head} Its state for ${w}: ${named || "none"}. ${at}: ${fmtNum(before)} → ${fmtNum(after)} (grad ${fmtNum(p.g)}).${tail}`;
}

/**
 * `w -= lr * w.grad` (or `w.sub_(w.grad, alpha=lr)`, `w += -lr * w.grad`) under torch.no_grad(): an in-place
 * change of a leaf that requires grad. The learning rate is read from the numbers: (before − after) / grad.
 */
function manualUpdate(tl, ctx, i, k) {
  const m = manualParts(tl, i, k);
  if (!m) return null;
  const { p, before, after, grad, lr } = m;
  const w = ctx.name(p);
  const head = `${ctx.where} — a parameter update written by hand, under torch.no_grad() (autograd records nothing; ${w} changes in place).`;
  const tail = numel(after.shape) > 1 ? ` Now ${w} = ${V(after)}.` : "";
  if (lr === null) {
    const q = pick(after, before, after);
    return `${head} ${q.scalar ? w : `${w}[${q.i}]`}: ${fmtNum(q.vals[0])} → ${fmtNum(q.vals[1])}.${tail}`;
  }
  const q = pick(grad, before, after);
  const esc = w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const lrName = new RegExp(`([A-Za-z_][\\w.]*)\\s*\\*\\s*${esc}\\.grad`).exec(ctx.line)?.[1] ?? /alpha\s*=\s*([A-Za-z_][\w.]*)/.exec(ctx.line)?.[1];
  const lrWord = lrName ? `${lrName} = ${fmtHyper(lr)}` : `the learning rate ${fmtHyper(lr)}`;
  const at = q.scalar ? w : `${w}[${q.i}]`;
  const grads = q.scalar ? "" : ` (${w}.grad = ${V(grad)})`;
  return `${head} Gradient descent: ${w} ← ${w} − lr·${w}.grad with ${lrWord}: ${at} = ${fmtNum(q.vals[0])} − ${fmtHyper(lr)} × ${num(q.g)} = ${fmtNum(q.vals[1])}${grads}.${tail}`;
}

/** A hand-written update's parts: {p, before, after, grad, lr (read from the numbers, or null)}, or null. */
function manualParts(tl, i, k) {
  const s = tl.trace.forward[i];
  const p = s.inputs?.[0];
  const t = tl.graph.tensors.get(p);
  if (s.grad_enabled || s.kind === "optim" || !/^(sub_|add_)$/.test(s.op) || s.outputs?.[0] !== p || !t?.requires_grad || !t.is_leaf) return null;
  const after = s.values?.[0] ?? null, grad = gradAt(tl, p, k - 1);
  const u = s.inputs[1] != null ? dataAt(tl, s.inputs[1], k - 1) : null;
  const sign = s.op === "sub_" ? 1 : -1; // sub_(u): u is lr·grad; add_(u): u is −lr·grad
  // w before the step, from the step itself (before = after ± u): after a folded stretch of a loop the
  // timeline's last recorded value of w is older than the iteration on screen.
  const scaled = tl.graph.tensors.get(s.inputs[1])?.grad_of !== p; // w.sub_(w.grad, alpha=lr): alpha is not in the trace
  const u0 = scaled && flat(u) && flat(after) && sameShape(u, after) ? flat(u).map((x) => sign * toNum(x)) : null;
  const start = paramsAtStart(tl.trace, i, p); // the tracer's record of w as this iteration began: exact, if w is unchanged since
  const exact = start && !tl.trace.forward.slice(start.start, i).some((x) => x.outputs?.includes(p)) ? start.value : null;
  const before = exact ?? (u0 ? makeValues(after.shape, flat(after).map((x, j) => toNum(x) + u0[j])) : dataAt(tl, p, k - 1));
  if (!before || !after || !flat(before) || !flat(after)) return null;
  const [b0, a0, g0] = [before, after, grad].map((v) => (v && flat(v) ? flat(v).map(toNum) : null));
  const lr = g0 && b0 && sameShape(grad, after) ? learningRate(b0, a0, g0, u0 ? 1e-4 : 1e-2) : null;
  return { p, before, after, grad, lr };
}

/** The update card of a hand-written `w -= lr * w.grad` at step k (view/teach.js draws it), or null. */
export function manualCard(tl, k, { source = "" } = {}) {
  const e = entryAt(tl, k);
  if (!e || e.kind !== "forward") return null;
  const m = manualParts(tl, e.index, k);
  if (!m) return null;
  const w = tensorName(tl.trace, namesOf(tl.trace, source), m.p);
  return {
    update: true, key: `t:${m.p}`, param: m.p, name: w, label: "by hand, under torch.no_grad()", position: 1, count: 1,
    hyper: m.lr !== null ? { lr: m.lr } : {}, grad: m.grad, before: m.before, after: m.after, rows: [],
    rule: m.lr !== null ? `${w} ← ${w} − lr·${w}.grad` : null, agrees: m.lr !== null, size: numel(m.after.shape),
  };
}

/** The one lr with after = before − lr·grad for every element (relative tolerance `tol`), or null. */
export function learningRate(before, after, grad, tol = 1e-3) {
  let lr = null;
  for (let j = 0; j < grad.length; j++) {
    const g = grad[j], d = before[j] - after[j];
    if (!Number.isFinite(g) || !Number.isFinite(d)) return null;
    if (g === 0) { if (Math.abs(d) > 1e-6 * Math.max(1, Math.abs(before[j]))) return null; continue; }
    const r = d / g;
    if (lr === null) lr = r;
    else if (Math.abs(r - lr) > tol * Math.abs(lr) + 1e-12) return null;
  }
  return lr === 0 ? null : lr;
}

const sameNums = (a, b) => a.length === b.length && a.every((x, j) => Math.abs(toNum(x) - toNum(b[j])) <= 1e-4 * Math.max(1, Math.abs(toNum(x))));
const sameShape = (a, b) => JSON.stringify(a?.shape ?? []) === JSON.stringify(b?.shape ?? []);
