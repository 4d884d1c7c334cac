import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { chainCard } from "../static/js/teach/chain-card.js";
import { narrate } from "../static/js/teach/narration.js";
import { question } from "../static/js/teach/quiz.js";
import { RULES } from "../static/js/teach/derivatives.js";
import { sym, num, add, sub, mul, had, div, pow, neg, T, call, print, evaluate, defsOf, unb } from "../static/js/teach/expr-tree.js";
import { flat } from "../static/js/model/values.js";
import * as nd from "../static/js/model/nd.js";
import { parseFormula } from "./tools/parse-formula.js";

// traces of real programs (frontend/tests/fixtures/regenerate.py): gallery examples and real-model pieces
const FIXTURES = ["basic-mul", "apple-tangerine", "fan-in", "mlp-training-step", "second-derivative", "multi-output",
  "norm-layers", "index-ops", "mse-tanh"];

function cards(name) {
  const m = model(name);
  const out = [];
  for (let k = 1; k <= m.tl.total; k++) { const c = chainCard(m.tl, k, { source: m.code }); if (c) out.push({ k, c }); }
  return { m, out };
}

test("printer: brackets by precedence and associativity, none where they are not needed", () => {
  const [a, b, c, g] = ["a", "b", "c", "g"].map(sym);
  assert.equal(print(had(mul(num(2), sub(a, b)), g), { a: "pred", b: "y", g: "dL/dloss" }), "2 · (pred − y) ⊙ dL/dloss");
  assert.equal(print(had(sub(num(1), pow(sym("y"), num(2))), g), { y: "o", g: "dL/do" }), "(1 − o²) ⊙ dL/do");
  assert.equal(print(sub(a, sub(b, c))), "a − (b − c)");
  assert.equal(print(sub(sub(a, b), c)), "a − b − c");
  assert.equal(print(div(a, mul(b, c))), "a / (b · c)");
  assert.equal(print(mul(mul(a, b), c)), "a · b · c");
  assert.equal(print(neg(pow(a, num(2)))), "−a²");
  assert.equal(print(pow(neg(a), num(2))), "(−a)²");
  assert.equal(print(pow(add(a, b), sub(c, num(1)))), "(a + b)^(c − 1)");
  assert.equal(print(T(add(a, b))), "(a + b)ᵀ");
  // a name that is itself an expression is bracketed like one
  assert.equal(print(mul(num(2), a), { a: "gradients.norm(2, dim=1) - 1" }), "2 · (gradients.norm(2, dim=1) - 1)");
  assert.equal(print(mul(num(2), a), { a: "x ** 2" }), "2 · (x ** 2)");
  assert.equal(print(had(a, call("φ", [a])), { a: "att @ k" }), "(att @ k) ⊙ φ(att @ k)");
  assert.equal(print(pow(a, num(2)), { a: "-x" }), "(-x)²");
  assert.equal(print(had(a, g), { a: "f(x - 1)", g: "dL/d(x - 1)" }), "f(x - 1) ⊙ dL/d(x - 1)");
});

test("reader and printer agree: parse(print(tree)) is the same computation", () => {
  const [a, b, c] = ["a", "b", "c"].map(sym);
  const vals = { a: { shape: [3], data: [1.5, -2, 3] }, b: { shape: [3], data: [0.5, 4, -1] }, c: { shape: [], data: [2] } };
  const ctx = { value: (k) => vals[k], shape: [3] };
  const trees = [sub(a, sub(b, c)), div(a, mul(b, c)), neg(pow(sub(a, b), num(2))), had(sub(num(1), pow(a, num(2))), b),
    pow(add(a, c), sub(c, num(1))), mul(num(-0.5), pow(div(a, b), num(3)))];
  for (const t of trees) assert.deepEqual(evaluate(parseFormula(print(t)), ctx).data, evaluate(t, ctx).data, print(t));
});

// Every checked formula on every card, printed with plain role names, read back by an independent parser and evaluated
// on the node's saved values, gives the engine's numbers: the printed text (brackets included) is what was checked.
function roundTrip(row) {
  const impls = new Map();
  (function walk(e) {
    if (!e || typeof e !== "object") return;
    if (e.t === "call" && e.impl) impls.set(e.fn, e.impl);
    ["a", "b"].forEach((k) => walk(e[k])); (e.args || []).forEach(walk);
  })(row.tree);
  const defs = new Map(defsOf(row.tree).map((d) => { const [l, r] = d.split(" = "); return [l, parseFormula(r)]; }));
  const attach = (e) => {
    if (!e || typeof e !== "object") return e;
    if (e.t === "call" && impls.has(e.fn)) e.impl = impls.get(e.fn);
    ["a", "b"].forEach((k) => attach(e[k])); (e.args || []).forEach(attach);
    return e;
  };
  const parsed = attach(parseFormula(print(row.tree)));
  defs.forEach(attach);
  const ctx = { ...row.ctx, value: (k) => (defs.has(k) ? evaluate(defs.get(k), ctx) : row.ctx.value(k)) };
  let v = evaluate(parsed, ctx);
  if (row.summed) v = nd.sumTo(v, row.sent.shape);
  return v;
}

const said = (e) => e && typeof e === "object" && (e.t === "said" || ["a", "b"].some((k) => said(e[k])) || (e.args || []).some(said));

test("every checked formula, read back from its printed text, gives the engine's numbers (fixtures of real programs)", () => {
  let checked = 0;
  const seen = new Set();
  for (const name of FIXTURES) {
    for (const { c } of cards(name).out) {
      for (const r of c.rows) {
        if (r.status !== "checked" || said(r.tree)) continue;
        const v = roundTrip(r);
        const want = flat(r.sent);
        assert.equal(v.data.length, want.length, `${name} ${c.name}: ${r.send}`);
        v.data.forEach((x, i) => assert.ok(Math.abs(x - want[i]) <= 1e-4 * Math.max(1, Math.abs(want[i])), `${name} ${c.name} slot ${r.slot}: ${r.send} gives ${v.data} not ${want}`));
        checked++;
        seen.add(c.name);
      }
    }
  }
  for (const n of ["NativeLayerNormBackward0", "NativeBatchNormBackward0", "NativeGroupNormBackward0", "RsqrtBackward0", "PowBackward0",
    "TanhBackward0", "MseLossBackward0", "AddmmBackward0", "MmBackward0", "LinalgVectorNormBackward0", "ScatterBackward0", "GatherBackward0"]) {
    assert.ok(seen.has(n) || !FIXTURES.length, `a checked ${n} formula`);
  }
  assert.ok(checked > 60, `${checked} formulas read back`);
});

test("MSE, tanh and WGAN-GP formulas carry their brackets on the card, in the caption and in the quiz", () => {
  const { m, out } = cards("mse-tanh");
  const pow2 = out.map((x) => x.c).filter((c) => c.name === "PowBackward0").flatMap((c) => c.rows);
  assert.ok(pow2.some((r) => r.send.startsWith("2 · (pred - y) ⊙ dL/d")), pow2.map((r) => r.send).join("\n"));
  assert.ok(pow2.some((r) => /^2 · \(.*norm.* - 1\) ⊙ dL\/d|^2 · \(sub\(.*\)\) ⊙|^2 · sub\(norm\(gradients\)\) ⊙/.test(r.send)), pow2.map((r) => r.send).join("\n"));
  const powOp = out.map((x) => x.c).filter((c) => c.name === "PowBackward0").map((c) => c.op);
  assert.ok(powOp.includes("(pred - y) ** 2 = (pred - y)^2"), powOp.join("\n")); // the forward op too, named in the program's words as the narration does
  const tanh = out.find((x) => x.c.name === "TanhBackward0");
  assert.equal(tanh.c.rows[0].send, "(1 − o²) ⊙ dL/do");
  assert.equal(tanh.c.rows[0].status, "checked");
  assert.match(question(tanh.c).why, /= \(1 − o²\) ⊙ dL\/do = /);
  assert.doesNotMatch(question(tanh.c).why, /1 − o² ×/);
  assert.match(narrate(m.tl, tanh.k, { source: m.code }).text, /dL\/d\(x @ w\) = \(1 − o²\) ⊙ dL\/do = \[/);
});

test("LayerNorm: the weight gradient has the x̂ factor, the bias gradient does not, and both are torch's numbers", () => {
  const { m, out } = cards("norm-layers");
  const ln = out.find((x) => x.c.name === "NativeLayerNormBackward0");
  const [input, weight, bias] = ln.c.rows;
  assert.equal(weight.target, "dL/dln.weight");
  assert.match(weight.send, /^\(dL\/d\S+ ⊙ x̂\) summed over dims 0, 1/);
  assert.deepEqual(weight.defs, ["x̂ = (x − μ) ⊙ σ⁻¹"]);
  assert.match(bias.send, /^dL\/d\S+ summed over dims 0, 1/);
  assert.match(input.send, /^σ⁻¹ ⊙ \(ĝ − mean\(ĝ, dim=-1\) − x̂ ⊙ mean\(ĝ ⊙ x̂, dim=-1\)\)$/);
  for (const r of ln.c.rows) assert.equal(r.status, "checked", r.target);
  const text = narrate(m.tl, ln.k, { source: m.code }).text;
  assert.match(text, /dL\/dln\.weight = \(dL\/d\S+ ⊙ x̂\) summed over dims 0, 1/);
  assert.doesNotMatch(text, /dL\/dln\.weight = dL\/d\S+ summed/);
  assert.match(text, /Here ĝ = dL\/d\S+ ⊙ ln\.weight and x̂ = \(x − μ\) ⊙ σ⁻¹\./);
});

test("a matmul with a ones vector is a matmul: no broadcast copies in its explanation", () => {
  const { m, out } = cards("index-ops");
  const mmCard = out.find((x) => x.c.name === "MmBackward0");
  const toOnes = mmCard.c.rows.find((r) => r.target === "dL/dones");
  assert.equal(toOnes.send, "Xᵀ @ dL/dY");
  assert.equal(toOnes.status, "checked");
  const text = narrate(m.tl, mmCard.k, { source: m.code }).text;
  assert.doesNotMatch(text, /copies/);
  assert.match(text, /dL\/dones = Xᵀ @ dL\/dY = \[/);
});

test("fail-closed: a formula that does not give the engine's numbers is withheld, on the card, in the caption and in the quiz", () => {
  const rule = RULES.NativeLayerNormBackward0;
  const saved = rule.slots[1];
  rule.slots[1] = { local: num(1), send: unb(sym("g")) }; // the bias formula, stated for the weight: numbers disagree
  try {
    const { m, out } = cards("norm-layers");
    const ln = out.find((x) => x.c.name === "NativeLayerNormBackward0");
    const w = ln.c.rows[1];
    assert.equal(w.status, "withheld");
    assert.equal(w.send, null);
    assert.equal(w.local, null);
    assert.ok(w.sent, "the engine's numbers are still shown");
    assert.doesNotMatch(narrate(m.tl, ln.k, { source: m.code }).text, /dL\/dln\.weight = dL\/d/);
  } finally { rule.slots[1] = saved; }
});

test("every card formula in the fixtures is checked, or says why it could not be", () => {
  for (const name of FIXTURES) {
    for (const { c } of cards(name).out) {
      for (const r of c.rows) {
        if (c.kind !== "op" || !r.sent || !flat(r.sent)) continue;
        assert.notEqual(r.status, "withheld", `${name} ${c.name} slot ${r.slot}: a stated formula disagrees with the engine`);
      }
    }
  }
});

test("named parts are spelled out once, inner first", () => {
  const xhat = { t: "def", label: "x̂", a: had(sub(sym("a"), sym("mu")), sym("rstd")) };
  assert.deepEqual(defsOf(had(xhat, had(sym("g"), xhat)), { a: "x", mu: "μ", rstd: "σ⁻¹" }), ["x̂ = (x − μ) ⊙ σ⁻¹"]);
});
