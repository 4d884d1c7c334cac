// Backward of the indexing ops (embedding, index_select, gather, scatter, scatter_add) as expression trees: a gradient
// read at indices goes back by adding into those indices (repeats add), and a gradient written by a scatter is read back.
import { sym, num, call, said } from "./expr-tree.js";

const g = sym("g"), index = sym("index"), dim = sym("dim");

function strides(shape) {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}
function* positions(shape) {
  const n = shape.reduce((a, b) => a * b, 1), idx = new Array(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    yield idx;
    for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
}
const at = (st, idx) => idx.reduce((f, i, d) => f + i * st[d], 0);
const norm = (d, r) => (d < 0 ? d + r : d);

/** torch.gather(src, d, index): out[p] = src[p with p[d] = index[p]]. */
export function gather(src, d, idx) {
  const r = src.shape.length, dd = norm(d, r), st = strides(src.shape), data = [];
  let c = 0;
  for (const p of positions(idx.shape)) { const q = [...p]; q[dd] = idx.data[c++]; data.push(src.data[at(st, q)]); }
  return { shape: [...idx.shape], data };
}

/** zeros(shape).scatter_add(d, index, src) (`add` false: scatter, the last write wins). */
export function scatterInto(base, d, idx, src, add = true) {
  const r = base.shape.length, dd = norm(d, r), st = strides(base.shape), sst = strides(src.shape), data = [...base.data];
  let c = 0;
  for (const p of positions(idx.shape)) {
    const q = [...p]; q[dd] = idx.data[c++];
    const v = src.data[at(sst, p)];
    data[at(st, q)] = add ? data[at(st, q)] + v : v;
  }
  return { shape: [...base.shape], data };
}

const zeros = (shape) => ({ shape: [...shape], data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0) });

// rows of g (one per index) added into rows of a zero matrix: embedding's and index_select's weight gradient
function indexAdd(v, idx, d, shape) {
  const dd = norm(d, shape.length), out = zeros(shape), st = strides(shape), vst = strides(v.shape);
  for (const p of positions(v.shape)) {
    const q = [...p]; q[dd] = idx.data[p[dd]];
    out.data[at(st, q)] += v.data[at(vst, p)];
  }
  return out;
}

const gatherBack = call("gather", [g, dim, index], (v, d, idx) => gather(v, d.data[0], idx));

export const INDEX_RULES = {
  EmbeddingBackward0: {
    op: "{y} = weight[{index}]  (nn.Embedding: row index[p] of the table)",
    slots: [(env) => (env.num("scale_grad_by_freq") ? null : {
      local: "1 from each looked-up row to its own row of the table",
      send: said(g, "added into row {index}[p] of a zero table, for each position p (repeats add; the padding row gets 0)", (v, ctx) => {
        const idx = ctx.saved("indices"), rows = ctx.shape[0], pad = ctx.num("padding_idx") ?? -1;
        if (!idx) return null;
        const flatG = { shape: [idx.data.length, ctx.shape[1]], data: v.data };
        const out = indexAdd(flatG, { shape: [idx.data.length], data: idx.data }, 0, [rows, ctx.shape[1]]);
        if (pad >= 0) out.data.fill(0, pad * ctx.shape[1], (pad + 1) * ctx.shape[1]);
        return out;
      }) })],
    names: { index: () => "indices" },
  },
  IndexSelectBackward0: {
    op: "{y} = {a}.index_select(dim, {index})",
    slots: [{ local: "1 from each selected slice to its own slice",
      send: said(g, "added into slice {index}[i] of zeros along dim {dim} (repeats add)", (v, ctx) => {
        const idx = ctx.saved("index");
        return idx ? indexAdd(v, idx, ctx.num("dim"), ctx.shape) : null;
      }) }],
  },
  GatherBackward0: {
    op: "{y} = gather({a}, {dim}, {index})",
    slots: [{ local: "1 from each gathered element to the element it read",
      send: call("scatter_add", [call("zeros_like", [sym("a")], (v) => ({ shape: [...v.shape], data: v.data.map(() => 0) })), dim, index, g], (z, d, idx, v) => scatterInto(z, d.data[0], idx, v)) }],
  },
  ScatterAddBackward0: {
    op: "{y} = {a}.scatter_add({dim}, {index}, src)",
    slots: [{ local: num(1), send: g }, { local: "1 from each source element to where it was added", send: gatherBack }],
  },
  ScatterBackward0: {
    op: "{y} = {a}.scatter({dim}, {index}, src)",
    slots: [
      { local: "1 where {a} was kept, 0 where it was overwritten",
        send: call("scatter", [g, dim, index, num(0)], (v, d, idx, z) => scatterInto(v, d.data[0], idx, { shape: idx.shape, data: idx.data.map(() => z.data[0]) }, false)) },
      { local: "1 from each source element to where it was written", send: gatherBack }],
  },
  ScatterBackward1: {
    op: "{y} = {a}.scatter({dim}, {index}, value)",
    slots: [{ local: "1 where {a} was kept, 0 where it was overwritten",
      send: call("scatter", [g, dim, index, num(0)], (v, d, idx, z) => scatterInto(v, d.data[0], idx, { shape: idx.shape, data: idx.data.map(() => z.data[0]) }, false)) }],
  },
};
