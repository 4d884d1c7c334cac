// The update card of one optimizer.step() parameter update (ForwardStep.optim): the optimizer's rule as formulas,
// each with its numbers from the trace, and the rule evaluated on the recorded values checked against the new value.
// Pure: a function of (trace, k); view/teach.js draws it.
import { entryAt } from "../model/timeline.js";
import { flat, makeValues, numel } from "../model/values.js";
import { namesOf, tensorName } from "../model/names.js";

const REL = 1e-4; // float32 arithmetic in another order: the rule must give torch's new value to this precision

/** Which update of its optimizer.step() call step `i` is: [position 1…n, n] among the consecutive optimizer steps. */
export function updatePosition(forward, i) {
  const s = forward[i];
  const same = (x) => x && x.kind === "optim" && x.optim && x.line === s.line && x.optim.optimizer === s.optim.optimizer
    && (x.iteration?.index ?? null) === (s.iteration?.index ?? null) && (x.iteration?.loop ?? null) === (s.iteration?.loop ?? null);
  let a = i, b = i;
  while (same(forward[a - 1]) && !forward.slice(a, i + 1).some((x) => x.optim.param === forward[a - 1].optim.param)) a--;
  while (same(forward[b + 1]) && !forward.slice(a, b + 1).some((x) => x.optim.param === forward[b + 1].optim.param)) b++;
  return [i - a + 1, b - a + 1];
}

const zip = (f, ...xs) => (xs.every(Array.isArray) && xs.every((x) => x.length === xs[0].length) ? xs[0].map((_, j) => f(...xs.map((x) => x[j]))) : null);

/** The rule of `o.optimizer` on the recorded values: {rows: [{formula, values}], after (recomputed flat numbers) | null}. */
export function applyRule(o) {
  const h = o.hyper || {};
  const name = String(o.optimizer || "");
  const P = flat(o.before), G0 = flat(o.grad);
  const T = Object.fromEntries(Object.entries(o.terms || {}).map(([k, v]) => [k, flat(v)]));
  const lr = h.lr, wd = h.weight_decay || 0;
  const G = G0 && h.maximize ? G0.map((x) => -x) : G0;
  const rows = [];
  const row = (formula, values) => rows.push({ formula, values });
  if (/^SGD$/i.test(name)) {
    const g = wd ? zip((x, p) => x + wd * p, G, P) : G;
    if (wd) row(`g = grad + ${fmtHyper(wd)}·p`, g);
    const mom = h.momentum || 0;
    let d = g;
    if (mom) {
      const buf = T.momentum_buffer;
      row(`buf ← ${fmtHyper(mom)}·buf + ${h.dampening ? `(1 − ${fmtHyper(h.dampening)})·` : ""}g`, buf);
      d = h.nesterov ? zip((x, b) => x + mom * b, g, buf) : buf;
    }
    return { rows, after: zip((p, x) => p - lr * x, P, d), step: mom ? (h.nesterov ? `g + ${fmtHyper(mom)}·buf` : "buf") : "g" };
  }
  if (/^Adam(W)?$/i.test(name)) {
    const b1 = h.beta1 ?? h.betas?.[0] ?? 0.9, b2 = h.beta2 ?? h.betas?.[1] ?? 0.999, eps = h.eps ?? 1e-8;
    const t = T.step?.[0] ?? null;
    const m = T.exp_avg, v = h.amsgrad ? T.max_exp_avg_sq : T.exp_avg_sq;
    if (!t || !m || !v) return { rows, after: null };
    const decoupled = /W$/i.test(name) || h.decoupled_weight_decay;
    row(`m ← ${fmtHyper(b1)}·m + ${fmtHyper(1 - b1)}·${wd && !decoupled ? "(grad + λ·p)" : "grad"}`, m);
    row(`v ← ${fmtHyper(b2)}·v + ${fmtHyper(+(1 - b2).toPrecision(3))}·${wd && !decoupled ? "(grad + λ·p)²" : "grad²"}${h.amsgrad ? " (max so far)" : ""}`, h.amsgrad ? T.exp_avg_sq : v);
    const mh = m.map((x) => x / (1 - b1 ** t)), vh = v.map((x) => x / (1 - b2 ** t));
    row(`m̂ = m / (1 − ${fmtHyper(b1)}^${t})`, mh);
    row(`v̂ = v / (1 − ${fmtHyper(b2)}^${t})`, vh);
    const p0 = decoupled && wd ? P?.map((p) => p * (1 - lr * wd)) : P;
    if (decoupled && wd) row(`p ← p − lr·${fmtHyper(wd)}·p  (decoupled weight decay)`, p0);
    return { rows, after: zip((p, a, b) => p - (lr * a) / (Math.sqrt(b) + eps), p0, mh, vh), step: "m̂ / (√v̂ + ε)" };
  }
  if (/^RMSprop$/i.test(name) && !h.centered && !h.momentum && !wd) {
    const v = T.square_avg, eps = h.eps ?? 1e-8;
    row(`v ← ${fmtHyper(h.alpha ?? 0.99)}·v + ${fmtHyper(+(1 - (h.alpha ?? 0.99)).toPrecision(3))}·grad²`, v);
    return { rows, after: zip((p, g, s) => p - (lr * g) / (Math.sqrt(s) + eps), P, G, v), step: "grad / (√v + ε)" };
  }
  return { rows, after: null };
}

/** A number for humans: learning rates and other hyper-parameters as written (1e-6, 0.9). */
export function fmtHyper(x) {
  if (typeof x !== "number") return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(2).replace(/\.?0+e/, "e").replace("e-0", "e-").replace("e+", "e");
  return String(Number(x.toPrecision(4)));
}

/** Whether the rule's new value is torch's, element by element (fail closed: no numbers, no agreement). */
export function agrees(after, recorded, lr) {
  const A = flat(recorded);
  if (!after || !A || after.length !== A.length) return false;
  const scale = Math.abs(lr || 0) + 1e-6;
  return after.every((x, j) => Number.isFinite(x) && Math.abs(x - A[j]) <= REL * Math.max(Math.abs(A[j]), scale) + 1e-7);
}

/** The card for step k when it is an optimizer update, else null. */
export function updateCard(tl, k, { source = "" } = {}) {
  const e = entryAt(tl, k);
  if (!e || e.kind !== "forward") return null;
  const s = tl.trace.forward[e.index];
  const o = s.optim;
  if (!o || s.kind !== "optim") return null;
  const name = tensorName(tl.trace, namesOf(tl.trace, source), o.param);
  const [i, n] = updatePosition(tl.trace.forward, e.index);
  const rule = applyRule(o);
  const ok = agrees(rule.after, o.after, o.hyper?.lr);
  const shape = o.after?.shape ?? [];
  const rows = rule.rows.map((r) => ({ formula: r.formula, values: r.values ? makeValues(shape, r.values) : null }));
  return {
    update: true, key: `t:${o.param}`, param: o.param, name, optimizer: o.optimizer, position: i, count: n,
    hyper: o.hyper || {}, grad: o.grad, before: o.before, after: o.after, rows,
    rule: rule.step ? `${name} ← ${name} − lr·${rule.step}` : null,
    recomputed: ok ? makeValues(shape, rule.after) : null, agrees: ok, size: numel(shape),
  };
}
