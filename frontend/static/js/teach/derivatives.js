// Local derivatives of autograd nodes: per next_functions slot, ∂out/∂input and the gradient sent, as expression
// trees (teach/expr-tree.js), so the same tree is printed on the card and evaluated on the trace's saved values.
import * as nd from "../model/nd.js";
import { sym, num, add, sub, mul, had, div, mm, pow, gt, neg, T, call, ind, unb, outer, red, said, eq, swapDims, ge, le, same as equal } from "./expr-tree.js";
import { NORM_RULES } from "./norm-rules.js";
import { INDEX_RULES } from "./index-rules.js";

const a = sym("a"), b = sym("b"), y = sym("y"), g = sym("g"), c = sym("c"), n = sym("n"), N = sym("N");
const t = sym("t"), x1 = sym("x1"), x2 = sym("x2");
const fn = (f) => (x) => call(f, [x]);
const [exp, ln, sin, cos, sqrt, sign, sig] = ["exp", "ln", "sin", "cos", "√", "sign", "σ"].map(fn);

/** An element-wise slot: ∂y/∂input = local, and the gradient sent is local ⊙ g summed back to the input's shape. */
const ew = (local) => ({ local, send: unb(had(local, g)) });
const scaled = (k, local = k) => ({ local, send: unb(k.t === "num" && k.v === 1 ? g : k.t === "num" && k.v === -1 ? neg(g) : mul(k, g)) });
const same = { local: num(1), send: g };
// A gradient moved, not computed on: reshaped, transposed, copied; `how` says it in words, `impl` does it.
const moved = (how, impl, local = "1 (the same numbers, moved)") => ({ local, send: said(g, how, impl) });
const alpha = (env) => env.num("alpha") ?? 1;
const withAlpha = (env, sign) => { const k = sign * alpha(env); return scaled(num(k)); };

// reduction: 0 none, 1 mean, 2 sum (torch's Reduction enum); mean divides by N (the input's numel)
const reduction = (env) => env.num("reduction") ?? 1;
const perN = (env, e) => (reduction(env) === 1 ? div(e, N) : e);

/** Each rule: { op: what the forward computed (filled by names), slots: [slot | (env) => slot] }. */
export const RULES = {
  AddBackward0: { op: eq(y, add(a, b)), slots: [same, (env) => withAlpha(env, 1)] },
  AddBackward1: { op: eq(y, add(a, c)), slots: [same] },
  SubBackward0: { op: eq(y, sub(a, b)), slots: [same, (env) => withAlpha(env, -1)] },
  SubBackward1: { op: eq(y, sub(a, c)), slots: [same] },
  RsubBackward1: { op: eq(y, sub(c, a)), slots: [(env) => withAlpha(env, -1)] },
  RsubBackward0: { op: eq(y, sub(b, a)), slots: [(env) => withAlpha(env, -1), same] },
  MulBackward0: { op: eq(y, mul(a, b)), slots: [ew(b), ew(a)] },
  MulBackward1: { op: eq(y, mul(a, c)), slots: [scaled(c)] },
  DivBackward0: { op: eq(y, div(a, b)), slots: [
    { local: div(num(1), b), send: unb(div(g, b)) },
    { local: neg(div(a, pow(b, num(2)))), send: unb(neg(div(had(g, a), pow(b, num(2))))) }] },
  DivBackward1: { op: eq(y, div(a, c)), slots: [{ local: div(num(1), c), send: div(g, c) }] },
  PowBackward0: { op: eq(y, pow(a, n)), slots: [(env) => {
    const k = env.num("exponent");
    if (k === undefined) return ew(mul(n, pow(a, sub(n, num(1)))));
    return ew(k - 1 === 1 ? mul(num(k), a) : k - 1 === 0 ? num(k) : mul(num(k), pow(a, num(k - 1))));
  }] },
  PowBackward1: { op: eq(y, pow(a, b)), slots: [ew(had(b, pow(a, sub(b, num(1))))), ew(had(y, ln(a)))] },
  ExpBackward0: { op: eq(y, exp(a)), slots: [ew(y)] },
  LogBackward0: { op: eq(y, ln(a)), slots: [{ local: div(num(1), a), send: div(g, a) }] },
  SinBackward0: { op: eq(y, sin(a)), slots: [ew(cos(a))] },
  CosBackward0: { op: eq(y, cos(a)), slots: [ew(neg(sin(a)))] },
  TanhBackward0: { op: eq(y, call("tanh", [a])), slots: [ew(sub(num(1), pow(y, num(2))))] },
  SigmoidBackward0: { op: eq(y, sig(a)), slots: [ew(had(y, sub(num(1), y)))] },
  ReluBackward0: { op: eq(y, call("relu", [a])), slots: [ew(ind(gt(y, num(0))))] },
  ReciprocalBackward0: { op: eq(y, div(num(1), a)), slots: [ew(neg(pow(y, num(2))))] },
  MaximumBackward0: { op: eq(y, call("maximum", [a, b])), slots: [ // ties share the gradient equally (torch's rule)
    ew(add(ind(gt(a, b)), div(ind(equal(a, b)), num(2)))), ew(add(ind(gt(b, a)), div(ind(equal(a, b)), num(2))))] },
  MinimumBackward0: { op: eq(y, call("minimum", [a, b])), slots: [
    ew(add(ind(gt(b, a)), div(ind(equal(a, b)), num(2)))), ew(add(ind(gt(a, b)), div(ind(equal(a, b)), num(2))))] },
  ClampBackward1: { op: eq(y, call("clamp", [a, sym("min"), sym("max")])), slots: [(env) => {
    const lo = env.num("min"), hi = env.num("max");
    if (lo === undefined && hi === undefined) return null;
    const conds = [lo !== undefined ? ind(ge(a, sym("min"))) : null, hi !== undefined ? ind(le(a, sym("max"))) : null].filter(Boolean);
    return ew(conds.length === 2 ? had(conds[0], conds[1]) : conds[0]);
  }], names: { min: (env) => env.num("min") ?? "min", max: (env) => env.num("max") ?? "max" } },
  NegBackward0: { op: eq(y, neg(a)), slots: [scaled(num(-1))] },
  SqrtBackward0: { op: eq(y, sqrt(a)), slots: [{ local: div(num(1), mul(num(2), sqrt(a))), send: div(g, mul(num(2), y)) }] },
  RsqrtBackward0: { op: eq(y, div(num(1), sqrt(a))), slots: [ew(mul(num(-0.5), pow(y, num(3))))] },
  AbsBackward0: { op: eq(y, call("abs", [a])), slots: [ew(sign(a))] },
  CloneBackward0: { op: "{y} = {a}.clone()", slots: [same] },
  ToCopyBackward0: { op: "{y} = {a}.to(dtype)", slots: [{ local: num(1), send: said(g, "cast back", (v) => v) }] },
  SumBackward0: { op: eq(y, call("sum", [a])), slots: [moved("copied to every element of {a}", (v, ctx) => nd.expandTo(v, ctx.shape), "1 for every element")] },
  SumBackward1: { op: "{y} = {a}.sum(dim)", slots: [moved("copied along the summed dim", (v, ctx) => spread(ctx, v), "1 for every summed element")] },
  MeanBackward0: { op: eq(y, call("mean", [a])), slots: [{ local: div(num(1), N), send: div(said(g, "copied to every element", (v, ctx) => nd.expandTo(v, ctx.shape)), N) }] },
  MeanBackward1: { op: "{y} = {a}.mean(dim)", slots: [{ local: div(num(1), sym("K")), send: div(said(g, "copied along the averaged dim", (v, ctx) => spread(ctx, v)), sym("K")) }] },
  MmBackward0: { op: eq(y, mm(a, b)), slots: [{ local: T(b), send: mm(g, T(b)) }, { local: T(a), send: mm(T(a), g) }] },
  MvBackward0: { op: eq(y, mm(a, b)), slots: [{ local: b, send: outer(g, b) }, { local: T(a), send: mm(T(a), g) }] },
  DotBackward0: { op: eq(y, call("dot", [a, b])), slots: [ew(b), ew(a)] },
  AddmmBackward0: { op: "{y} = bias + {x1} @ {x2}  (nn.Linear: x @ Wᵀ + b)", slots: [
    (env) => ({ local: "1 for each row, summed over the batch", send: unb((env.num("beta") ?? 1) === 1 ? g : mul(sym("beta"), g)) }),
    { local: T(x2), send: mm(g, T(x2)) }, { local: T(x1), send: mm(T(x1), g) }] },
  LinalgVectorNormBackward0: { op: eq(y, call("‖·‖₂", [a])), slots: [(env) => (env.num("ord") !== 2 ? null : { local: div(a, y), send: had(div(a, y), g) })],
    values: { y: (env) => keepDims(env, env.saved("result")), g: (env) => keepDims(env, env.g) } },
  TBackward0: { op: eq(y, T(a)), slots: [{ local: "transpose", send: T(g) }] },
  PermuteBackward0: { op: "{y} = {a}.permute(dims)", slots: [moved("permuted back", (v) => (v.shape.length === 2 ? nd.t(v) : null))] },
  TransposeBackward0: { op: "{y} = {a}.transpose(i, j)", slots: [moved("with dims {dim0} and {dim1} swapped back", (v, ctx) => {
    const i = ctx.num("dim0"), j = ctx.num("dim1");
    return i === undefined || j === undefined ? (v.shape.length === 2 ? nd.t(v) : null) : swapDims(v, i, j);
  })], names: { dim0: (env) => env.num("dim0") ?? "i", dim1: (env) => env.num("dim1") ?? "j" } },
  BmmBackward0: { op: eq(y, mm(a, b)), slots: [{ local: T(b), send: mm(g, T(b)) }, { local: T(a), send: mm(T(a), g) }],
    values: { b: (env) => env.saved("mat2") ?? env.input(1) } },
  GeluBackward0: { op: eq(y, call("gelu", [a])), slots: [(env) => (/none/.test(env.savedRepr?.("approximate") ?? "'none'")
    ? ew(add(call("Φ", [a]), had(a, call("φ", [a])))) : null)] },
  ViewBackward0: { op: "{y} = {a}.view(shape)", slots: [moved("reshaped to {a}'s shape", reshapeTo)] },
  ReshapeAliasBackward0: { op: "{y} = {a}.reshape(shape)", slots: [moved("reshaped to {a}'s shape", reshapeTo)] },
  UnsafeViewBackward0: { op: "{y} = {a}.reshape(shape)", slots: [moved("reshaped to {a}'s shape", reshapeTo)] },
  SqueezeBackward0: { op: "{y} = {a}.squeeze()", slots: [moved("with the size-1 dims put back", reshapeTo)] },
  SqueezeBackward1: { op: "{y} = {a}.squeeze(dim)", slots: [moved("with the size-1 dim put back", reshapeTo)] },
  SqueezeBackward4: { op: "{y} = {a}.squeeze(dim)", slots: [moved("with the size-1 dim put back", reshapeTo)] },
  UnsqueezeBackward0: { op: "{y} = {a}.unsqueeze(dim)", slots: [moved("with the new dim removed", reshapeTo)] },
  ExpandBackward0: { op: "{y} = {a}.expand(shape)", slots: [{ local: "1 per copy", send: unb(g) }] },
  SelectBackward0: { op: "{y} = {a}[i]", slots: [moved("placed at index {index}, zeros elsewhere", select, "1 at the selected row, 0 elsewhere")] },
  SliceBackward0: { op: "{y} = {a}[i:j]", slots: [{ local: "1 inside the slice, 0 outside", text: "{g} placed in the slice, zeros elsewhere" }] },
  IndexBackward0: { op: "{y} = {a}[index]", slots: [{ local: "1 at the indexed elements, 0 elsewhere", text: "{g} scattered to the indexed elements (repeats add)" }] },
  SplitBackward0: { op: "pieces = {a}.split(size, dim)", slots: [{ local: "1: each piece's gradient goes back to its place", send: said(sym("joined"), "(the pieces' gradients joined along dim, zeros for a piece with none)", (v) => v) }] },
  SplitWithSizesBackward0: { op: "pieces = {a}.split(sizes, dim)", slots: [{ local: "1: each piece's gradient goes back to its place", send: said(sym("joined"), "(the pieces' gradients joined along dim)", (v) => v) }] },
  UnbindBackward0: { op: "pieces = {a}.unbind(dim)", slots: [{ local: "1: each piece's gradient goes back to its place", send: said(sym("joined"), "(the pieces' gradients stacked)", (v) => v) }] },
  MaxBackward0: { op: "{y}, idx = {a}.max(dim)", slots: [{ local: "1 at the arg-max, 0 elsewhere", text: "{g} placed at the arg-max indices" }] },
  MaxBackward1: { op: "{y} = {a}.max()", slots: [{ local: "1 at the maximum, 0 elsewhere", text: "{g} placed at the maximum" }] },
  MseLossBackward0: { op: "{y} = mse_loss({a}, target)", slots: [
    (env) => ew(perN(env, mul(num(2), sub(a, t)))),
    (env) => ew(perN(env, mul(num(-2), sub(a, t))))] },
  BinaryCrossEntropyBackward0: { op: "{y} = −mean(t·ln p + (1−t)·ln(1−p)), p = {a}", slots: [
    (env) => (env.saved("weight") ? null : ew(perN(env, div(sub(a, t), had(a, sub(num(1), a))))))] },
  BinaryCrossEntropyWithLogitsBackward0: { op: "{y} = BCE(σ({a}), target)", slots: [
    (env) => (env.saved("weight") || env.saved("pos_weight") ? null : ew(perN(env, sub(sig(a), t)))),
    { local: "−{a} / N", text: "−{a} / N · {g}" }] },
  SoftmaxBackward0: { op: "{y} = softmax({a}, dim)", slots: [{ local: "diag({y}) − {y}{y}ᵀ (the softmax Jacobian)",
    send: had(y, sub(g, red("sum", had(g, y), "dim"))) }] },
  LogSoftmaxBackward0: { op: "{y} = log_softmax({a}, dim)", slots: [{ local: "I − softmax({a}) (each row)",
    send: sub(g, had(exp(y), red("sum", g, "dim"))) }] },
  NllLossBackward0: { op: "{y} = −mean(logp[target])  (cross_entropy = log_softmax + nll_loss)", slots: [
    moved("negated at each row's target class (÷ N for the mean), 0 elsewhere", nll, "−1/N at each row's target class, 0 elsewhere")] },
  CopySlices: { op: "an in-place write into a view of {a}", slots: [{ local: "1 outside the written slice; the in-place op's derivative inside", text: "{g} with the slice's gradient replaced by what the in-place op sends" }] },
  AsStridedBackward0: { op: "{y} = a strided view of {a}", slots: [{ local: "1 at the viewed elements", text: "{g} written back into {a}'s layout" }] },
  ...NORM_RULES,
  ...INDEX_RULES,
};

// A reduction's result with the reduced dims put back as size 1 (keepdim), so it broadcasts against the input.
function keepDims(env, v) {
  const x = env.saved("self");
  if (!v || !x || v.shape.length === x.shape.length) return v;
  const dims = (env.savedList("dim") ?? [...x.shape.keys()]).map((d) => (d < 0 ? d + x.shape.length : d));
  return nd.reshape(v, x.shape.map((s, i) => (dims.includes(i) ? 1 : s)));
}

function reshapeTo(v, ctx) { return nd.reshape(v, ctx.shape); }

// Gradient of a reduction over dims: g reshaped with the reduced dims as size 1, then copied along them.
function spread(ctx, v) {
  const shape = ctx.shape;
  let keep = v.shape;
  if (keep.length !== shape.length) {
    const dims = ctx.savedList("dim") ?? [];
    const norm = dims.map((d) => (d < 0 ? d + shape.length : d));
    let j = 0;
    keep = shape.map((s, i) => (norm.includes(i) ? 1 : v.shape[j++]));
  }
  return nd.expandTo(nd.reshape(v, keep), shape);
}

function select(v, ctx) {
  const shape = ctx.shape, dim = ctx.num("dim"), index = ctx.num("index");
  if (dim === undefined || index === undefined || shape.length !== 2 || dim !== 0) return null;
  const cols = shape[1], data = new Array(shape[0] * cols).fill(0);
  const i = index < 0 ? index + shape[0] : index;
  v.data.forEach((x, j) => { data[i * cols + j] = x; });
  return { shape, data };
}

function nll(v, ctx) {
  const shape = ctx.shape, tg = ctx.saved("target");
  if (!tg || ctx.saved("weight") || shape.length > 2) return null;
  const rows = shape.length === 2 ? shape[0] : 1, cols = shape[shape.length - 1];
  const ignore = ctx.num("ignore_index");
  const counted = tg.data.filter((k) => k !== ignore).length || 1;
  const k = (ctx.num("reduction") ?? 1) === 1 ? 1 / counted : 1;
  const data = new Array(rows * cols).fill(0);
  tg.data.forEach((cls, r) => { if (cls !== ignore) data[r * cols + cls] = -(v.data.length === 1 ? v.data[0] : v.data[r]) * k; });
  return { shape, data };
}

/** The rule for a node name (built-ins by name; custom Functions get none: their backward is the user's code). */
export function ruleFor(name) {
  const r = RULES[String(name || "").replace(/^torch::autograd::/, "")];
  return r && Array.isArray(r.slots) ? r : null;
}

/** A rule's slot for this node: a slot object, or null where the rule does not cover the node's options. */
export function slotOf(rule, i, env) {
  const s = rule?.slots[i];
  return typeof s === "function" ? s(env) : s ?? null;
}

/** Fill {a} {b} {y} {g} … in a rule's words. */
export function fill(text, names) {
  return String(text).replace(/\{(\w+)\}/g, (m, k) => (names[k] !== undefined ? names[k] : m));
}


