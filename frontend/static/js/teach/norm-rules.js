// Backward of the norm layers (LayerNorm, BatchNorm, GroupNorm) as expression trees: with x̂ the normalised input and
// ĝ = g ⊙ w, input: σ⁻¹ ⊙ (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)), weight: Σ g ⊙ x̂, bias: Σ g, the means and sums over
// the dims each layer normalises. (RMSNorm is recorded as pow/mean/rsqrt/mul nodes, each with its own rule.)
import * as nd from "../model/nd.js";
import { sym, num, add, sub, had, div, call, red, def, unb } from "./expr-tree.js";

const g = sym("g"), x = sym("a"), w = sym("w"), mu = sym("mu"), rstd = sym("rstd");
const xhat = def("x̂", had(sub(x, mu), rstd));

// slots for a layer whose statistics broadcast against x as saved; `over` names the normalised dims, `keep` the others
function normSlots(over, keep, { rstdNode = rstd, hat = xhat } = {}) {
  const gw = (env) => (env.saved("weight") ? def("ĝ", had(g, w)) : g);
  return [
    (env) => { const gh = gw(env); return { local: "through x̂, and through the mean and variance it was normalised with",
      send: had(rstdNode, sub(sub(gh, red("mean", gh, over)), had(hat, red("mean", had(gh, hat), over)))) }; },
    { local: hat, send: keep ? red("sum", had(g, hat), keep) : unb(had(g, hat)) },
    { local: num(1), send: keep ? red("sum", g, keep) : unb(g) },
  ];
}

const rank = (env) => env.saved("input")?.shape.length ?? 0;
// A per-channel vector [C] as [1, C, 1, …] so it broadcasts over x [N, C, *].
const perChannel = (v, r) => (v ? nd.reshape(v, [1, v.shape[0], ...new Array(Math.max(0, r - 2)).fill(1)]) : null);
const allBut1 = (env) => [...Array(rank(env)).keys()].filter((d) => d !== 1);

const layerNormDims = (env) => {
  const k = (env.saved("normalized_shape")?.shape ? null : env.savedList("normalized_shape"))?.length ?? 1;
  return [...Array(k).keys()].map((i) => i - k);
};

// BatchNorm in eval mode uses the running statistics: σ⁻¹ = 1 / √(running_var + ε), x̂ = (x − running_mean) ⊙ σ⁻¹.
const evalRstd = def("σ⁻¹", div(num(1), call("√", [add(sym("running_var"), sym("eps"))])));
const evalHat = def("x̂", had(sub(x, sym("running_mean")), evalRstd));
const pick = (s, env) => (typeof s === "function" ? s(env) : s);
const training = (env) => env.num("training") !== 0;
const bnTrain = normSlots("dims", "dims");
const bnEval = [
  (env) => ({ local: env.saved("weight") ? had(w, evalRstd) : evalRstd, send: env.saved("weight") ? had(had(g, w), evalRstd) : had(g, evalRstd) }),
  { local: evalHat, send: red("sum", had(g, evalHat), "dims") },
  { local: num(1), send: red("sum", g, "dims") },
];

// GroupNorm's statistics are per (sample, group): spread them to every element of x, and average within each group.
function groupOf(env) {
  const x0 = env.saved("input"), G = env.num("group");
  if (!x0 || !G) return null;
  const [N, C] = x0.shape, per = (x0.data.length / N / C) * (C / G);
  return { N, G, per, idx: (i) => Math.floor(i / per) }; // flat index → (n·G + group) for x's contiguous layout
}
function spreadStat(env, name) {
  const s = env.saved(name), gr = groupOf(env);
  if (!s || !gr) return null;
  const x0 = env.saved("input");
  return { shape: x0.shape, data: x0.data.map((_, i) => s.data[gr.idx(i)]) };
}
function groupMean(env) {
  const gr = groupOf(env);
  return gr && ((v, kind) => {
    const sums = new Array(gr.N * gr.G).fill(0);
    v.data.forEach((z, i) => { sums[gr.idx(i)] += z; });
    return { shape: v.shape, data: v.data.map((_, i) => (kind === "mean" ? sums[gr.idx(i)] / gr.per : sums[gr.idx(i)])) };
  });
}

// roles are plain words (a formula prints and parses back with them); these are the names a card shows
const SHOWN = { mu: () => "μ", rstd: () => "σ⁻¹", eps: () => "ε" };
const values = {
  a: (env) => env.saved("input"),
  w: (env) => env.saved("weight"),
};

export const NORM_RULES = {
  NativeLayerNormBackward0: {
    op: "{y} = (x − μ) ⊙ σ⁻¹ ⊙ w + b over the last dims (nn.LayerNorm)",
    slots: normSlots("norm", null),
    names: { ...SHOWN, norm: (env) => dimsText(layerNormDims(env)) },
    values: { ...values, mu: (env) => env.saved("result1"), rstd: (env) => env.saved("result2"), norm: layerNormDims },
  },
  NativeBatchNormBackward0: {
    op: "{y} = (x − μ) ⊙ σ⁻¹ ⊙ w + b per channel (nn.BatchNorm)",
    slots: [0, 1, 2].map((i) => (env) => pick(training(env) ? bnTrain[i] : bnEval[i], env)),
    names: { ...SHOWN, dims: (env) => dimsText(allBut1(env)) },
    values: {
      ...values,
      w: (env) => perChannel(env.saved("weight"), rank(env)),
      mu: (env) => perChannel(env.saved("result1"), rank(env)),
      rstd: (env) => perChannel(env.saved("result2"), rank(env)),
      running_mean: (env) => perChannel(env.saved("running_mean"), rank(env)),
      running_var: (env) => perChannel(env.saved("running_var"), rank(env)),
      eps: (env) => env.num("eps"),
      dims: allBut1,
    },
  },
  NativeGroupNormBackward0: {
    op: "{y} = (x − μ) ⊙ σ⁻¹ ⊙ w + b per group of channels (nn.GroupNorm)",
    slots: normSlots("group", "dims"),
    names: { ...SHOWN, group: () => "its group", dims: (env) => dimsText(allBut1(env)) },
    values: {
      ...values,
      w: (env) => perChannel(env.saved("weight"), rank(env)),
      mu: (env) => spreadStat(env, "result1"),
      rstd: (env) => spreadStat(env, "result2"),
      group: groupMean,
      dims: allBut1,
    },
  },
};

function dimsText(dims) {
  return dims.length === 1 ? `dim=${dims[0]}` : `dims=(${dims.join(", ")})`;
}
