// Local derivatives of autograd nodes: per next_functions slot, the symbolic ∂out/∂input, how it meets the
// incoming gradient g, and (where the trace holds the numbers) the same formula evaluated, so a card can show its sum.
import * as nd from "../model/nd.js";

// env: g (incoming, nd), out (node's output, nd|null), input(slot) (nd|null), saved(name) (nd|null),
// num(name) (saved scalar|undefined), shape(slot) (shape of the gradient sent on that slot).
const id = (env, s) => nd.sumTo(env.g, env.shape(s));
const scaled = (k) => (env, s) => nd.sumTo(nd.map((g) => k(env) * g, env.g), env.shape(s));
const elem = (f, src) => (env, s) => { // g ⊙ f(x) with x the saved/input tensor named by src
  const x = src(env);
  return x ? nd.sumTo(nd.map((g, v) => g * f(v), env.g, x), env.shape(s)) : null;
};
const saved = (...names) => (env) => names.map((n) => env.saved(n)).find(Boolean) ?? null;
const self = (env) => env.saved("self") ?? env.input(0);
const other = (env) => env.saved("other") ?? env.input(1);
const result = (env) => env.saved("result") ?? env.out;
const reshapeTo = (env, s) => nd.reshape(env.g, env.shape(s));
const transposeBack = (env) => nd.t(env.g);

function reduction(env) { // 0 none, 1 mean, 2 sum (torch's Reduction enum)
  const r = env.num("reduction");
  return r === undefined ? 1 : r;
}
function lossScale(env, input) {
  return reduction(env) === 1 && input ? 1 / input.data.length : 1;
}

// Each rule: { op: what the forward computed, slots: [{ local, send, f }] }; {a} {b} {y} {g} {n} are filled in by names.
export const RULES = {
  AddBackward0: { op: "{y} = {a} + {b}", slots: [
    { local: "1", send: "{g}", f: id },
    { local: "α = 1", send: "{g}", f: (env, s) => scaled((e) => e.num("alpha") ?? 1)(env, s) }] },
  SubBackward0: { op: "{y} = {a} − {b}", slots: [
    { local: "1", send: "{g}", f: id },
    { local: "−1", send: "−{g}", f: (env, s) => scaled((e) => -(e.num("alpha") ?? 1))(env, s) }] },
  RsubBackward1: { op: "{y} = c − {a}", slots: [{ local: "−1", send: "−{g}", f: scaled((e) => -(e.num("alpha") ?? 1)) }] },
  RsubBackward0: { op: "{y} = {b} − {a}", slots: [
    { local: "−1", send: "−{g}", f: scaled((e) => -(e.num("alpha") ?? 1)) },
    { local: "1", send: "{g}", f: id }] },
  MulBackward0: { op: "{y} = {a} · {b}", slots: [
    { local: "{b}", send: "{b} ⊙ {g}", f: elem((v) => v, other) },
    { local: "{a}", send: "{a} ⊙ {g}", f: elem((v) => v, self) }] },
  MulBackward1: { op: "{y} = {a} · c", slots: [{ local: "c = {c}", send: "{c} · {g}", f: scaled((e) => e.num("other")) }] },
  DivBackward0: { op: "{y} = {a} / {b}", slots: [
    { local: "1 / {b}", send: "{g} / {b}", f: elem((v) => 1 / v, other) },
    { local: "−{a} / {b}²", send: "−{g} ⊙ {a} / {b}²", f: (env, s) => {
      const a = self(env), b = other(env);
      return a && b ? nd.sumTo(nd.map((g, x, y) => -g * x / (y * y), env.g, a, b), env.shape(s)) : null;
    } }] },
  DivBackward1: { op: "{y} = {a} / c", slots: [{ local: "1 / c", send: "{g} / {c}", f: scaled((e) => 1 / e.num("other")) }] },
  PowBackward0: { op: "{y} = {a}^n", slots: [
    { local: "n · {a}^(n−1), n = {n}", send: "{n} · {apow} ⊙ {g}", f: (env, s) => {
      const n = env.num("exponent");
      return n === undefined ? null : elem((v) => n * v ** (n - 1), self)(env, s);
    } }] },
  PowBackward1: { op: "{y} = {a}^{b}", slots: [
    { local: "{b} · {a}^({b}−1)", send: "{b} · {a}^({b}−1) ⊙ {g}", f: (env, s) => {
      const a = self(env), b = env.saved("exponent") ?? env.input(1);
      return a && b ? nd.sumTo(nd.map((g, x, n) => g * n * x ** (n - 1), env.g, a, b), env.shape(s)) : null;
    } },
    { local: "{a}^{b} · ln {a}", send: "{y} ⊙ ln {a} ⊙ {g}", f: (env, s) => {
      const a = self(env), y = result(env);
      return a && y ? nd.sumTo(nd.map((g, x, r) => g * r * Math.log(x), env.g, a, y), env.shape(s)) : null;
    } }] },
  ExpBackward0: { op: "{y} = exp({a})", slots: [{ local: "exp({a}) = {y}", send: "{y} ⊙ {g}", f: elem((v) => v, result) }] },
  LogBackward0: { op: "{y} = ln {a}", slots: [{ local: "1 / {a}", send: "{g} / {a}", f: elem((v) => 1 / v, self) }] },
  SinBackward0: { op: "{y} = sin {a}", slots: [{ local: "cos {a}", send: "cos({a}) ⊙ {g}", f: elem(Math.cos, self) }] },
  CosBackward0: { op: "{y} = cos {a}", slots: [{ local: "−sin {a}", send: "−sin({a}) ⊙ {g}", f: elem((v) => -Math.sin(v), self) }] },
  TanhBackward0: { op: "{y} = tanh {a}", slots: [{ local: "1 − tanh²({a}) = 1 − {y}²", send: "(1 − {y}²) ⊙ {g}", f: elem((v) => 1 - v * v, result) }] },
  SigmoidBackward0: { op: "{y} = σ({a})", slots: [{ local: "σ({a})(1 − σ({a})) = {y}(1 − {y})", send: "{y}(1 − {y}) ⊙ {g}", f: elem((v) => v * (1 - v), result) }] },
  ReluBackward0: { op: "{y} = relu({a})", slots: [{ local: "1 where {a} > 0, else 0", send: "{g} where {y} > 0, else 0", f: elem((v) => (v > 0 ? 1 : 0), result) }] },
  NegBackward0: { op: "{y} = −{a}", slots: [{ local: "−1", send: "−{g}", f: scaled(() => -1) }] },
  SqrtBackward0: { op: "{y} = √{a}", slots: [{ local: "1 / (2√{a})", send: "{g} / (2{y})", f: elem((v) => 1 / (2 * v), result) }] },
  AbsBackward0: { op: "{y} = |{a}|", slots: [{ local: "sign({a})", send: "sign({a}) ⊙ {g}", f: elem(Math.sign, self) }] },
  CloneBackward0: { op: "{y} = {a}.clone()", slots: [{ local: "1", send: "{g}", f: id }] },
  ToCopyBackward0: { op: "{y} = {a}.to(dtype)", slots: [{ local: "1", send: "{g} (cast back)", f: id }] },
  SumBackward0: { op: "{y} = Σ {a}", slots: [{ local: "1 for every element", send: "{g} copied to every element of {a}", f: (env, s) => nd.expandTo(env.g, env.shape(s)) }] },
  SumBackward1: { op: "{y} = {a}.sum(dim)", slots: [{ local: "1 for every summed element", send: "{g} copied along the summed dim", f: (env, s) => spread(env, s, 1) }] },
  MeanBackward0: { op: "{y} = mean({a})", slots: [{ local: "1 / N, N = {N}", send: "{g} / {N} to every element", f: (env, s) => {
    const n = env.shape(s).reduce((x, y) => x * y, 1);
    return nd.map((g) => g / n, nd.expandTo(env.g, env.shape(s)));
  } }] },
  MeanBackward1: { op: "{y} = {a}.mean(dim)", slots: [{ local: "1 / (size of dim)", send: "{g} / size copied along the dim", f: (env, s) => {
    const n = env.shape(s).reduce((x, y) => x * y, 1) / Math.max(1, env.g.data.length);
    return spread(env, s, 1 / n);
  } }] },
  MmBackward0: { op: "{y} = {a} @ {b}", slots: [
    { local: "{b}ᵀ (on the right)", send: "{g} @ {b}ᵀ", f: (env) => { const b = env.saved("mat2") ?? env.input(1); return b ? nd.mm(env.g, nd.t(b)) : null; } },
    { local: "{a}ᵀ (on the left)", send: "{a}ᵀ @ {g}", f: (env) => { const a = self(env); return a ? nd.mm(nd.t(a), env.g) : null; } }] },
  MvBackward0: { op: "{y} = {a} @ {b}", slots: [
    { local: "{b}ᵀ (outer product)", send: "{g} ⊗ {b}", f: (env) => { const b = env.saved("vec") ?? env.input(1); return b ? nd.outer(env.g, b) : null; } },
    { local: "{a}ᵀ", send: "{a}ᵀ @ {g}", f: (env) => { const a = self(env); return a ? nd.mm(nd.t(a), env.g) : null; } }] },
  DotBackward0: { op: "{y} = {a} · {b}", slots: [
    { local: "{b}", send: "{b} · {g}", f: elem((v) => v, (e) => e.saved("tensor") ?? e.input(1)) },
    { local: "{a}", send: "{a} · {g}", f: elem((v) => v, self) }] },
  AddmmBackward0: { op: "{y} = bias + mat1 @ mat2  (nn.Linear: x @ Wᵀ + b)", slots: [
    { local: "β · 1, summed over the batch", send: "Σ_batch {g}", f: (env, s) => nd.map((g) => (env.num("beta") ?? 1) * g, nd.sumTo(env.g, env.shape(s))) },
    { local: "mat2ᵀ (on the right)", send: "{g} @ mat2ᵀ", f: (env) => { const b = env.saved("mat2") ?? env.input(2); return b ? nd.mm(env.g, nd.t(b)) : null; } },
    { local: "mat1ᵀ (on the left)", send: "mat1ᵀ @ {g}", f: (env) => { const a = env.saved("mat1") ?? env.input(1); return a ? nd.mm(nd.t(a), env.g) : null; } }] },
  TBackward0: { op: "{y} = {a}ᵀ", slots: [{ local: "transpose", send: "{g}ᵀ", f: transposeBack }] },
  PermuteBackward0: { op: "{y} = {a}.permute(dims)", slots: [{ local: "the inverse permutation", send: "{g} permuted back", f: (env, s) => (env.g.shape.length === 2 ? nd.t(env.g) : null) }] },
  TransposeBackward0: { op: "{y} = {a}.transpose(i, j)", slots: [{ local: "swap the dims back", send: "{g} transposed back", f: (env) => (env.g.shape.length === 2 ? nd.t(env.g) : null) }] },
  ViewBackward0: { op: "{y} = {a}.view(shape)", slots: [{ local: "1 (same numbers, new shape)", send: "{g} reshaped to {a}'s shape", f: reshapeTo }] },
  ReshapeAliasBackward0: { op: "{y} = {a}.reshape(shape)", slots: [{ local: "1 (same numbers, new shape)", send: "{g} reshaped to {a}'s shape", f: reshapeTo }] },
  UnsafeViewBackward0: { op: "{y} = {a}.reshape(shape)", slots: [{ local: "1 (same numbers, new shape)", send: "{g} reshaped to {a}'s shape", f: reshapeTo }] },
  SqueezeBackward0: { op: "{y} = {a}.squeeze()", slots: [{ local: "1", send: "{g} with the size-1 dims put back", f: reshapeTo }] },
  SqueezeBackward1: { op: "{y} = {a}.squeeze(dim)", slots: [{ local: "1", send: "{g} with the size-1 dim put back", f: reshapeTo }] },
  SqueezeBackward4: { op: "{y} = {a}.squeeze(dim)", slots: [{ local: "1", send: "{g} with the size-1 dim put back", f: reshapeTo }] },
  UnsqueezeBackward0: { op: "{y} = {a}.unsqueeze(dim)", slots: [{ local: "1", send: "{g} with the new dim removed", f: reshapeTo }] },
  ExpandBackward0: { op: "{y} = {a}.expand(shape)", slots: [{ local: "1 per copy", send: "{g} summed over the copies", f: (env, s) => nd.sumTo(env.g, env.shape(s)) }] },
  SelectBackward0: { op: "{y} = {a}[i]", slots: [{ local: "1 at the selected row, 0 elsewhere", send: "{g} placed at index {index}, zeros elsewhere", f: (env, s) => select(env, s) }] },
  SliceBackward0: { op: "{y} = {a}[i:j]", slots: [{ local: "1 inside the slice, 0 outside", send: "{g} placed in the slice, zeros elsewhere" }] },
  IndexBackward0: { op: "{y} = {a}[index]", slots: [{ local: "1 at the indexed elements, 0 elsewhere", send: "{g} scattered to the indexed elements (repeats add)" }] },
  CatBackward0: { op: "{y} = cat([{a}, …])", slots: "each: { local: \"1 on its own block\", send: \"its block of {g}\" }" },
  SplitBackward0: { op: "pieces = {a}.split(size, dim)", slots: [{ local: "1: each piece's gradient goes back to its place", send: "the pieces' gradients joined along dim (zeros for a piece with none)", f: (env) => env.joined }] },
  SplitWithSizesBackward0: { op: "pieces = {a}.split(sizes, dim)", slots: [{ local: "1: each piece's gradient goes back to its place", send: "the pieces' gradients joined along dim", f: (env) => env.joined }] },
  UnbindBackward0: { op: "pieces = {a}.unbind(dim)", slots: [{ local: "1: each piece's gradient goes back to its place", send: "the pieces' gradients stacked", f: (env) => env.joined }] },
  MaxBackward0: { op: "{y}, idx = {a}.max(dim)", slots: [{ local: "1 at the arg-max, 0 elsewhere", send: "{g} placed at the arg-max indices" }] },
  MaxBackward1: { op: "{y} = {a}.max()", slots: [{ local: "1 at the maximum, 0 elsewhere", send: "{g} placed at the maximum" }] },
  MseLossBackward0: { op: "{y} = mean(({a} − target)²)", slots: [
    { local: "2({a} − target) / N", send: "2({a} − target) / N · {g}", f: (env, s) => {
      const a = self(env), t = env.saved("target") ?? env.input(1);
      const k = lossScale(env, a);
      return a && t ? nd.sumTo(nd.map((g, x, y) => 2 * (x - y) * k * g, env.g, a, t), env.shape(s)) : null;
    } },
    { local: "−2({a} − target) / N", send: "−2({a} − target) / N · {g}", f: (env, s) => {
      const a = self(env), t = env.saved("target") ?? env.input(1);
      const k = lossScale(env, a);
      return a && t ? nd.sumTo(nd.map((g, x, y) => -2 * (x - y) * k * g, env.g, a, t), env.shape(s)) : null;
    } }] },
  BinaryCrossEntropyBackward0: { op: "{y} = −mean(t·ln p + (1−t)·ln(1−p)), p = {a}", slots: [
    { local: "(p − t) / (p(1 − p)) / N", send: "(p − t) / (p(1 − p)) / N · {g}", f: (env, s) => {
      const p = self(env), t = env.saved("target") ?? env.input(1);
      const k = lossScale(env, p);
      return p && t && !env.saved("weight") ? nd.sumTo(nd.map((g, x, y) => g * k * (x - y) / Math.max(x * (1 - x), 1e-12), env.g, p, t), env.shape(s)) : null;
    } }] },
  BinaryCrossEntropyWithLogitsBackward0: { op: "{y} = BCE(σ({a}), target)", slots: [
    { local: "(σ({a}) − target) / N", send: "(σ({a}) − target) / N · {g}", f: (env, s) => {
      const z = self(env), t = env.saved("target") ?? env.input(1);
      const k = lossScale(env, z);
      if (!z || !t || env.saved("weight") || env.saved("pos_weight")) return null;
      return nd.sumTo(nd.map((g, x, y) => g * k * (1 / (1 + Math.exp(-x)) - y), env.g, z, t), env.shape(s));
    } },
    { local: "−{a} / N", send: "−{a} / N · {g}" }] },
  SoftmaxBackward0: { op: "{y} = softmax({a}, dim)", slots: [
    { local: "diag({y}) − {y}{y}ᵀ (the softmax Jacobian)", send: "{y} ⊙ ({g} − Σ({g} ⊙ {y}))", f: (env) => {
      const y = result(env), d = env.num("dim");
      if (!y || d === undefined) return null;
      const dot = nd.sumDim(nd.map((g, v) => g * v, env.g, y), d);
      return nd.map((g, v, s) => v * (g - s), env.g, y, dot);
    } }] },
  LogSoftmaxBackward0: { op: "{y} = log_softmax({a}, dim)", slots: [
    { local: "I − softmax({a}) (each row)", send: "{g} − exp({y}) ⊙ Σ{g}", f: (env) => {
      const y = result(env), d = env.num("dim");
      if (!y || d === undefined) return null;
      const s = nd.sumDim(env.g, d);
      return nd.map((g, v, t) => g - Math.exp(v) * t, env.g, y, s);
    } }] },
  NllLossBackward0: { op: "{y} = −mean(logp[target])  (cross_entropy = log_softmax + nll_loss)", slots: [
    { local: "−1/N at each row's target class, 0 elsewhere", send: "−{g}/N at the targets", f: (env, s) => nll(env, s) }] },
  CopySlices: { op: "an in-place write into a view of {a}", slots: [{ local: "1 outside the written slice; the in-place op's derivative inside", send: "{g} with the slice's gradient replaced by what the in-place op sends" }] },
  AsStridedBackward0: { op: "{y} = a strided view of {a}", slots: [{ local: "1 at the viewed elements", send: "{g} written back into {a}'s layout" }] },
};

// Gradient of a reduction over dims: g reshaped with the reduced dims as size 1, then copied along them.
function spread(env, s, k) {
  const shape = env.shape(s);
  let keep = env.g.shape;
  if (keep.length !== shape.length) {
    const dims = env.savedList("dim") ?? [];
    const norm = dims.map((d) => (d < 0 ? d + shape.length : d));
    let j = 0;
    keep = shape.map((n, i) => (norm.includes(i) ? 1 : env.g.shape[j++]));
  }
  return nd.map((g) => g * k, nd.expandTo(nd.reshape(env.g, keep), shape));
}

function select(env, s) {
  const shape = env.shape(s), dim = env.num("dim"), index = env.num("index");
  if (dim === undefined || index === undefined || shape.length !== 2 || dim !== 0) return null;
  const cols = shape[1], data = new Array(shape[0] * cols).fill(0);
  const i = index < 0 ? index + shape[0] : index;
  env.g.data.forEach((g, j) => { data[i * cols + j] = g; });
  return { shape, data };
}

function nll(env, s) {
  const shape = env.shape(s), t = env.saved("target");
  if (!t || env.saved("weight") || shape.length > 2) return null;
  const rows = shape.length === 2 ? shape[0] : 1, cols = shape[shape.length - 1];
  const ignore = env.num("ignore_index");
  const counted = t.data.filter((c) => c !== ignore).length || 1;
  const k = reduction(env) === 1 ? 1 / counted : 1;
  const data = new Array(rows * cols).fill(0);
  t.data.forEach((c, r) => { if (c !== ignore) data[r * cols + c] = -(env.g.data.length === 1 ? env.g.data[0] : env.g.data[r]) * k; });
  return { shape, data };
}

/** The rule for a node name (built-ins by name; custom Functions get none: their backward is the user's code). */
export function ruleFor(name) {
  const r = RULES[String(name || "").replace(/^torch::autograd::/, "")];
  return r && Array.isArray(r.slots) ? r : null;
}

/** Fill {a} {b} {y} {g} … in a rule text. */
export function fill(text, names) {
  return String(text).replace(/\{(\w+)\}/g, (m, k) => (names[k] !== undefined ? names[k] : m));
}
