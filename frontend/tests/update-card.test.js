import { test } from "node:test";
import assert from "node:assert/strict";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline, dataAt } from "../static/js/model/timeline.js";
import { updateCard, updatePosition } from "../static/js/teach/update-card.js";
import { narrate } from "../static/js/teach/narration.js";
import { flat } from "../static/js/model/values.js";

const V = (xs) => ({ shape: [xs.length], values: xs, min: Math.min(...xs), max: Math.max(...xs), mean: 0, sum: 0 });
const S = (n) => ({ shape: [n], values: null, min: -1, max: 1, mean: 0, sum: 0 });

function adamTrace(after, { summarised = false } = {}) {
  const g = [0.5, -2], lr = 0.1, b1 = 0.9, b2 = 0.999;
  const m = g.map((x) => (1 - b1) * x), v = g.map((x) => (1 - b2) * x * x);
  const val = (xs) => (summarised ? S(2) : V(xs));
  const step = (param, i) => ({ op: "Adam.step", inputs: [param], outputs: [param], node: null, grad_enabled: false, kind: "optim", line: 3,
    values: [val(after)], optim: { optimizer: "Adam", hyper: { lr, beta1: b1, beta2: b2, eps: 1e-8 }, param, grad: val(g), before: val([1, 1]),
      after: val(after), terms: { exp_avg: val(m), exp_avg_sq: val(v), step: { shape: [], values: 1 } }, group: 0 } });
  return {
    tensors: ["t1", "t2"].map((id) => ({ id, name: id === "t1" ? "w" : "b", shape: [2], requires_grad: true, is_leaf: true, data: val(after) })),
    nodes: [], backward: [], variables: {},
    forward: [{ op: "mul", inputs: ["t1", "t2"], outputs: [], node: null, grad_enabled: true, kind: "op", line: 2, values: [], data_changes: { t1: val([1, 1]), t2: val([1, 1]) } }, step("t1"), step("t2")],
  };
}

const tlOf = (trace) => buildTimeline(trace, buildGraph(trace));

test("Adam's card: m, v, m̂, v̂ from the state, the rule gives the recorded new value, one card per parameter", () => {
  const right = [1 - 0.1, 1 + 0.1]; // Adam's first step moves each element by lr against the gradient's sign
  const tl = tlOf(adamTrace(right));
  const c = updateCard(tl, 2);
  assert.equal(c.name, "w");
  assert.deepEqual([c.position, c.count], [1, 2]);
  assert.deepEqual(updatePosition(tl.trace.forward, 2), [2, 2]);
  assert.deepEqual(c.rows.map((r) => r.formula.split(" ")[0]), ["m", "v", "m̂", "v̂"]);
  assert.ok(flat(c.rows[2].values).every((x, j) => Math.abs(x - [0.5, -2][j]) < 1e-9), "m̂ is the gradient on step 1");
  assert.ok(c.agrees);
  assert.equal(narrate(tl, 2).title, "Adam.step() · parameter update 1/2");
  assert.equal(updateCard(tl, 1), null);
});

test("fail closed: a new value the rule does not give is not presented as agreeing", () => {
  const c = updateCard(tlOf(adamTrace([0.95, 1.05])), 2);
  assert.equal(c.agrees, false);
  assert.equal(c.recomputed, null);
});

test("summarised parameters: the card and the narration work from statistics, no error", () => {
  const tl = tlOf(adamTrace([0.9, 1.1], { summarised: true }));
  for (let k = 0; k <= tl.total; k++) narrate(tl, k);
  const c = updateCard(tl, 2);
  assert.equal(c.agrees, false);
  assert.match(narrate(tl, 2).text, /statistics/);
});

test("data_changes: a parameter shows the value it was read with, never its later one", () => {
  const tl = tlOf(adamTrace([0.9, 1.1]));
  assert.deepEqual(flat(dataAt(tl, "t1", 0)), [1, 1]);
  assert.deepEqual(flat(dataAt(tl, "t1", 1)), [1, 1]);
  assert.deepEqual(flat(dataAt(tl, "t1", 2)), [0.9, 1.1]);
  assert.deepEqual(flat(dataAt(tl, "t2", 2)), [1, 1]);
});

test("a hand-written update (w -= lr * w.grad) has its card: the rule, and one lr read from every element", async () => {
  const { model } = await import("./helpers.js");
  const { manualCard } = await import("../static/js/teach/update-narration.js");
  const { tl, trace } = model("loop-poly-real");
  const a = trace.tensors.find((t) => t.name === "a").id;
  const ks = [];
  for (let k = 1; k <= tl.total; k++) { const c = manualCard(tl, k); if (c && c.param === a) ks.push([k, c]); }
  assert.ok(ks.length >= 2);
  for (const [, c] of ks) {
    assert.equal(c.rule, "a ← a − lr·a.grad");
    assert.ok(c.agrees && Math.abs(c.hyper.lr - 1e-4) < 1e-7, JSON.stringify(c.hyper));
  }
  assert.equal(manualCard(tl, 0), null);
});
