// Formulas as trees, never pasted strings: one tree is printed (brackets from precedence) and evaluated on the
// saved values (with the nd kit), so the text a card or caption shows is the computation that was checked.
import * as nd from "../model/nd.js";
import { fmtNum } from "../model/format.js";

// ---- nodes ----
/** A role ("a", "g", "y", "s:mean", …): printed with the name it has, evaluated to the value it holds. */
export const sym = (k) => ({ t: "sym", k });
export const num = (v) => ({ t: "num", v });
const bin = (op) => (a, b) => ({ t: "bin", op, a, b });
export const add = bin("+");
export const sub = bin("−");
export const mul = bin("·"); // a scalar factor
export const had = bin("⊙"); // element-wise product of tensors
export const div = bin("/");
export const mm = bin("@");
export const pow = bin("^");
export const gt = bin(">");
export const ge = bin("≥");
export const le = bin("≤");
export const same = bin("==");
export const outer = bin("⊗");
/** y = f(…): the statement of what a forward op computed (printed only). */
export const eq = bin("=");
export const neg = (a) => ({ t: "neg", a });
export const T = (a) => ({ t: "post", op: "ᵀ", a });
/** fn(args…): printed as a call; `impl(values…, ctx)` evaluates it (Math functions need none). */
export const call = (fn, args, impl) => ({ t: "call", fn, args, impl });
/** [cond]: 1 where cond holds, else 0 (Iverson's bracket). */
export const ind = (a) => ({ t: "ind", a });
/** Summed back to the input's shape where the input was broadcast (autograd's sum_to_size). */
export const unb = (a) => ({ t: "unb", a });
/** kind(a, over): a reduction ("sum" | "mean") keeping its dims, over the dims (or groups) the role `over` holds. */
export const red = (kind, a, over) => ({ t: "red", kind, a, over });
/** A named part ("x̂"): printed as its label, spelled out by defsOf(), evaluated as its tree. */
export const def = (label, a) => ({ t: "def", label, a });
/** a moved without arithmetic ("dL/dy reshaped to x's shape"): `how` in words ({role}s filled), `impl(value, ctx)` does it. */
export const said = (a, how, impl) => ({ t: "said", a, how, impl });
/** A label printed as is and evaluated to a number or list (a dim, an index list): never a tensor. */
export const lit = (text, value) => ({ t: "lit", text, value });

// ---- printing ----
const PREC = { "=": -1, said: 0, ">": 0, "≥": 0, "≤": 0, "==": 0, "+": 1, "−": 1, "·": 2, "⊙": 2, "⊗": 2, "/": 2, "@": 2, neg: 3, "^": 4, post: 5, atom: 6 };
const SUP = { 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹", "-": "⁻", ".": "·" };

/** The precedence of a name's own text: `pred - y` binds like a sum, `dL/d(pred - y)` like an atom. */
export function textPrec(text) {
  const s = String(text).trim();
  if (/^dL\/d/.test(s)) return PREC.atom; // gradOf() brackets an expression: dL/d(pred - y)
  let depth = 0, low = PREC.atom;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    if (depth || ")]}".includes(c)) continue;
    const prev = s.slice(0, i).trimEnd().slice(-1);
    const unary = !prev || "+-−*/@(,=<>·⊙".includes(prev) || (/e$/.test(s.slice(0, i)) && /\d/.test(s[i - 2] ?? ""));
    if ("+-−".includes(c)) low = Math.min(low, i === 0 || unary ? PREC.neg : PREC["+"]);
    else if (c === "*" && s[i + 1] === "*") { low = Math.min(low, PREC["^"]); i++; }
    else if ("*/@·⊙×%".includes(c)) low = Math.min(low, PREC["·"]);
    else if ("<>=!".includes(c)) low = Math.min(low, PREC[">"]);
  }
  return low;
}

function precOf(e, names) {
  if (e.t === "bin") return PREC[e.op];
  if (e.t === "neg") return PREC.neg;
  if (e.t === "num") return e.v < 0 ? PREC.neg : PREC.atom;
  if (e.t === "post") return PREC.post;
  if (e.t === "sym") return textPrec(nameOf(e.k, names));
  if (e.t === "lit") return textPrec(e.text);
  if (e.t === "unb") return precOf(e.a, names);
  if (e.t === "said") return PREC.said;
  return PREC.atom;
}

const nameOf = (k, names) => String(names?.[k] ?? k);
const wrap = (text, yes) => (yes ? `(${text})` : text);

/** The formula as text; `names` maps each role to the name it goes by on screen. */
export function print(e, names = {}) {
  const p = (x) => print(x, names);
  switch (e.t) {
    case "sym": return nameOf(e.k, names);
    case "lit": return String(e.text);
    case "num": return e.v < 0 ? `−${fmtNum(-e.v)}` : fmtNum(e.v);
    case "unb": return p(e.a);
    case "ind": return `[${p(e.a)}]`;
    case "neg": return `−${wrap(p(e.a), precOf(e.a, names) <= PREC.neg)}`;
    case "post": {
      const inner = wrap(p(e.a), precOf(e.a, names) < PREC.atom);
      return e.op === "ᵀ" && /^[^\s()]+ᵀ$/.test(inner) ? inner.slice(0, -1) : `${inner}${e.op}`; // (Wᵀ)ᵀ is W
    }
    case "call": return `${e.fn}(${e.args.map(p).join(", ")})`;
    case "red": { const over = nameOf(e.over, names); return `${e.kind}(${p(e.a)}, ${/^-?\d+$/.test(over) ? `dim=${over}` : over})`; }
    case "def": return e.label;
    case "said": return `${wrap(p(e.a), precOf(e.a, names) < PREC.atom)} ${e.how.replace(/\{([^}]+)\}/g, (m, k) => nameOf(k, names))}`;
    case "bin": {
      const me = PREC[e.op];
      if (e.op === "^") {
        const base = wrap(p(e.a), precOf(e.a, names) <= me);
        const sup = e.b.t === "num" && /^-?[\d.]+$/.test(String(e.b.v)) ? [...String(e.b.v)].map((c) => SUP[c]).join("") : null;
        return sup ? `${base}${sup}` : `${base}^${wrap(p(e.b), precOf(e.b, names) < PREC.atom)}`;
      }
      // left-associative: a right operand of the same precedence keeps its brackets, except a·(b·c) and a+(b+c)
      // a name that is itself an expression (`att @ k`) keeps its brackets inside any larger one: it reads as one thing
      const named = (x) => me >= 0 && (x.t === "sym" || x.t === "lit") && precOf(x, names) < PREC.atom;
      const left = wrap(p(e.a), precOf(e.a, names) < me || named(e.a));
      const rp = precOf(e.b, names);
      const same = e.b.t === "bin" && e.b.op === e.op && (e.op === "+" || e.op === "·" || e.op === "⊙");
      const right = wrap(p(e.b), rp < me || (rp === me && !same) || named(e.b));
      return `${left} ${e.op} ${right}`;
    }
    default: throw new Error(`no printer for ${e.t}`);
  }
}

// ---- evaluating ----
// erf to ~1e-7 (Abramowitz & Stegun 7.1.26), for GELU's Φ
function erf(x) {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}

const MATH = { "Φ": (x) => 0.5 * (1 + erf(x / Math.SQRT2)), "φ": (x) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI), exp: Math.exp, ln: Math.log, sin: Math.sin, cos: Math.cos, tanh: Math.tanh, sign: Math.sign, abs: Math.abs,
  "√": Math.sqrt, "σ": (x) => 1 / (1 + Math.exp(-x)) };
const ELEM = { "+": (x, y) => x + y, "−": (x, y) => x - y, "·": (x, y) => x * y, "⊙": (x, y) => x * y, "/": (x, y) => x / y,
  "^": (x, y) => x ** y, ">": (x, y) => (x > y ? 1 : 0), "≥": (x, y) => (x >= y ? 1 : 0), "≤": (x, y) => (x <= y ? 1 : 0),
  "==": (x, y) => (x === y ? 1 : 0) };

/**
 * The formula evaluated: `ctx.value(role)` gives a tensor ({shape, data}) or null, `ctx.shape` the shape the result is
 * summed to where the input was broadcast. Null when a value it needs is missing.
 */
export function evaluate(e, ctx) {
  const ev = (x) => evaluate(x, ctx);
  switch (e.t) {
    case "sym": { const v = ctx.value(e.k); if (v == null) throw new Missing(e.k); return typeof v === "number" ? nd.scalar(v) : v; }
    case "num": return nd.scalar(e.v);
    case "lit": return e.value;
    case "neg": return nd.map((x) => -x, ev(e.a));
    case "ind": return nd.map((x) => (x ? 1 : 0), ev(e.a));
    case "post": { const v = ev(e.a); return v.shape.length > 2 ? swapDims(v, -2, -1) : nd.t(v); }
    case "unb": return nd.sumTo(ev(e.a), ctx.shape);
    case "bin": {
      const a = ev(e.a), b = ev(e.b);
      if (e.op === "@") return a.shape.length > 2 || b.shape.length > 2 ? bmm(a, b) : nd.mm(a, b);
      return e.op === "⊗" ? nd.outer(a, b) : nd.map(ELEM[e.op], a, b);
    }
    case "def": return ev(e.a);
    case "said": { const v = e.impl(ev(e.a), ctx); if (!v) throw new Error("outside the kit"); return v; }
    case "red": return reduce(e.kind, ev(e.a), ctx.value(e.over));
    case "call": {
      const args = e.args.map(ev);
      if (e.impl) return e.impl(...args, ctx);
      const f = MATH[e.fn];
      if (!f) throw new Error(`no evaluator for ${e.fn}`);
      return nd.map(f, args[0]);
    }
    default: throw new Error(`no evaluator for ${e.t}`);
  }
}

/** a with dims i and j swapped (any rank). */
export function swapDims(a, i, j) {
  const r = a.shape.length, di = i < 0 ? i + r : i, dj = j < 0 ? j + r : j;
  const perm = [...a.shape.keys()];
  [perm[di], perm[dj]] = [perm[dj], perm[di]];
  const shape = perm.map((p) => a.shape[p]);
  const st = new Array(r).fill(1);
  for (let d = r - 2; d >= 0; d--) st[d] = st[d + 1] * a.shape[d + 1];
  const data = new Array(a.data.length), idx = new Array(r).fill(0);
  for (let c = 0; c < data.length; c++) {
    data[c] = a.data[perm.reduce((f, p, d) => f + idx[d] * st[p], 0)];
    for (let d = r - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
  return { shape, data };
}

// Batched matrix product over equal leading dims (torch.bmm / matmul of stacks).
function bmm(a, b) {
  if (a.shape.length !== b.shape.length || a.shape.slice(0, -2).some((n, i) => n !== b.shape[i])) throw new Error("batch dims differ");
  const [n, k] = a.shape.slice(-2), m = b.shape[b.shape.length - 1];
  const batch = a.data.length / (n * k), out = [];
  for (let s = 0; s < batch; s++) {
    const A = { shape: [n, k], data: a.data.slice(s * n * k, (s + 1) * n * k) };
    const B = { shape: [k, m], data: b.data.slice(s * k * m, (s + 1) * k * m) };
    out.push(...nd.mm(A, B).data);
  }
  return { shape: [...a.shape.slice(0, -2), n, m], data: out };
}

// A reduction that keeps its dims (so it broadcasts back): over a list of dims, or by a function (groups).
function reduce(kind, v, over) {
  if (typeof over === "function") return over(v, kind);
  if (typeof over === "number") over = [over];
  if (!Array.isArray(over)) throw new Missing("dims");
  const dims = over.map((d) => (d < 0 ? d + v.shape.length : d));
  const keep = v.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const s = nd.sumTo(v, keep);
  const count = dims.reduce((acc, d) => acc * v.shape[d], 1);
  return kind === "mean" ? nd.map((x) => x / count, s) : s;
}

class Missing extends Error {
  constructor(k) { super(`no value for ${k}`); this.missing = k; }
}

/** evaluate(), or null when a value is missing or a shape is outside the kit. */
export function tryEvaluate(e, ctx) {
  try {
    const v = evaluate(e, ctx);
    return v && Array.isArray(v.data) ? v : null;
  } catch { return null; }
}

/** The named parts a tree uses, spelled out: ["x̂ = (x − μ) ⊙ σ⁻¹", …] (each once, inner ones first). */
export function defsOf(e, names = {}, out = []) {
  if (!e || typeof e !== "object") return out;
  for (const k of ["a", "b"]) defsOf(e[k], names, out);
  (e.args || []).forEach((x) => defsOf(x, names, out));
  if (e.t === "def") {
    const text = `${e.label} = ${print(e.a, names)}`;
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

/** Whether the tree sums a broadcast input back (then a caption says over which dims). */
export function unbroadcasts(e) {
  if (!e || typeof e !== "object") return false;
  if (e.t === "unb") return true;
  return ["a", "b"].some((k) => unbroadcasts(e[k])) || (e.args || []).some(unbroadcasts);
}
