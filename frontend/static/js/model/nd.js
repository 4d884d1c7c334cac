// A tiny dense-tensor kit ({shape, data}) so a chain-rule card can evaluate its own formula from the trace's numbers.
import { flat, makeValues, numel } from "./values.js";

/** Values → {shape, data}, or null when the trace sent only statistics. */
export function fromValues(v) {
  const data = flat(v);
  return data ? { shape: [...(v.shape || [])], data } : null;
}

export function toValues(a) {
  return a ? makeValues(a.shape, a.data) : null;
}

export const scalar = (x) => ({ shape: [], data: [x] });

function strides(shape) {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function broadcastShape(a, b) {
  const n = Math.max(a.length, b.length);
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

// Flat index into `a` for a multi-index over a (broadcast) shape of rank `outRank`.
function indexer(shape, outRank) {
  const st = strides(shape);
  const off = outRank - shape.length;
  return (idx) => {
    let f = 0;
    for (let i = 0; i < shape.length; i++) f += (shape[i] === 1 ? 0 : idx[i + off]) * st[i];
    return f;
  };
}

function* indices(shape) {
  const n = numel(shape);
  const idx = new Array(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    yield idx;
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
}

/** Element-wise f over any number of broadcastable tensors. */
export function map(f, ...ts) {
  const shape = ts.reduce((s, t) => broadcastShape(s, t.shape), []);
  const at = ts.map((t) => indexer(t.shape, shape.length));
  const data = [];
  for (const idx of indices(shape)) data.push(f(...ts.map((t, i) => t.data[at[i](idx)])));
  return { shape, data };
}

/** Sum `a` down to `shape` (what autograd does for a broadcast input: sum_to_size). */
export function sumTo(a, shape) {
  if (sameShape(a.shape, shape)) return a;
  const out = new Array(numel(shape)).fill(0);
  const at = indexer(shape, a.shape.length);
  let c = 0;
  for (const idx of indices(a.shape)) out[at(idx)] += a.data[c++];
  return { shape: [...shape], data: out };
}

/** Broadcast `a` up to `shape` (expand). */
export function expandTo(a, shape) {
  return map((x) => x, a, { shape, data: new Array(numel(shape)).fill(0) });
}

export function sameShape(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function reshape(a, shape) {
  return { shape: [...shape], data: a.data };
}

/** Transpose of a 2-D tensor (or of the last two dims for rank 2 only; 1-D stays). */
export function t(a) {
  if (a.shape.length < 2) return a;
  const [r, c] = a.shape;
  const data = new Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = a.data[i * c + j];
  return { shape: [c, r], data };
}

/** Matrix product of 1-D/2-D tensors (torch.matmul semantics for those ranks). */
export function mm(a, b) {
  const A = a.shape.length === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const B = b.shape.length === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const [n, k] = A.shape, m = B.shape[1];
  if (B.shape[0] !== k) throw new Error(`mm of [${a.shape}] and [${b.shape}]`);
  const data = new Array(n * m).fill(0);
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) {
    const x = A.data[i * k + p];
    for (let j = 0; j < m; j++) data[i * m + j] += x * B.data[p * m + j];
  }
  const shape = [...(a.shape.length === 1 ? [] : [n]), ...(b.shape.length === 1 ? [] : [m])];
  return { shape, data };
}

/** Outer product of two 1-D tensors. */
export function outer(a, b) {
  return mm(reshape(a, [a.shape[0], 1]), reshape(b, [1, b.shape[0]]));
}

export function sumAll(a) {
  return scalar(a.data.reduce((s, x) => s + x, 0));
}

/** Sum over `dim` keeping it (size 1), so the result broadcasts back. */
export function sumDim(a, dim) {
  const d = dim < 0 ? dim + a.shape.length : dim;
  const shape = a.shape.map((s, i) => (i === d ? 1 : s));
  return sumTo(a, shape);
}

/** softmax along `dim`. */
export function softmax(a, dim) {
  const d = dim < 0 ? dim + a.shape.length : dim;
  const keep = a.shape.map((s, i) => (i === d ? 1 : s));
  const mx = { shape: keep, data: new Array(numel(keep)).fill(-Infinity) };
  const at = indexer(keep, a.shape.length);
  let c = 0;
  for (const idx of indices(a.shape)) { const j = at(idx); mx.data[j] = Math.max(mx.data[j], a.data[c++]); }
  const e = map((x, m) => Math.exp(x - m), a, mx);
  const s = sumTo(e, keep);
  return map((x, z) => x / z, e, s);
}

/** Join tensors along `dim` (torch.cat). */
export function cat(ts, dim) {
  const rank = ts[0].shape.length;
  const d = dim < 0 ? dim + rank : dim;
  const shape = [...ts[0].shape];
  shape[d] = ts.reduce((s, x) => s + x.shape[d], 0);
  const outer = shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const data = [];
  for (let o = 0; o < outer; o++) {
    for (const x of ts) {
      const block = x.shape[d] * inner;
      for (let i = 0; i < block; i++) data.push(x.data[o * block + i]);
    }
  }
  return { shape, data };
}

/** The `index`-th block of `sizes` along `dim` (one piece of torch.split). */
export function piece(a, dim, sizes, index) {
  const d = dim < 0 ? dim + a.shape.length : dim;
  const start = sizes.slice(0, index).reduce((s, x) => s + x, 0);
  const outer = a.shape.slice(0, d).reduce((x, y) => x * y, 1);
  const inner = a.shape.slice(d + 1).reduce((x, y) => x * y, 1);
  const shape = [...a.shape];
  shape[d] = sizes[index];
  const data = [];
  for (let o = 0; o < outer; o++) {
    const base = o * a.shape[d] * inner;
    for (let i = start * inner; i < (start + sizes[index]) * inner; i++) data.push(a.data[base + i]);
  }
  return { shape, data };
}
