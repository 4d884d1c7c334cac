import { test } from "node:test";
import assert from "node:assert/strict";
import { expandTrace } from "../static/js/wire/expand.js";
import { fixture } from "./helpers.js";

test("expandTrace turns the tracer's compact trace into exactly its full trace", () => {
  const { full, compact } = fixture("compact-mlp");
  assert.equal(compact.format, "compact");
  assert.ok(compact.value_table.length > 0);
  assert.ok(JSON.stringify(compact).length < JSON.stringify(full).length);
  assert.deepEqual(expandTrace(compact), full);
});

test("expandTrace is pure and a no-op on a full trace", () => {
  const { full, compact } = fixture("compact-mlp");
  const before = JSON.stringify(compact);
  expandTrace(compact);
  assert.equal(JSON.stringify(compact), before);
  assert.equal(expandTrace(full), full);
});

test("every Values place is resolved: optimizer updates, hooks, grads_after, saved, null stays null", () => {
  const t = {
    format: "compact", value_table: [{ shape: [], values: 1, min: 1, max: 1, mean: 1, sum: 1 }, { shape: [], values: 2, min: 2, max: 2, mean: 2, sum: 2 }],
    tensors: [{ id: "t1", data: 0, grad: null }],
    forward: [{ values: [0, null], grad_changes: { t1: 1 }, data_changes: { t1: 0 }, optim: { optimizer: "SGD", hyper: { lr: 0.1 }, param: "t1", grad: 1, before: 0, after: 1, terms: { momentum_buffer: 1 } } }],
    nodes: [{ id: "n1", saved: [{ name: "self", values: 1 }, { name: "dim", values: null }] }],
    backward: [{ gradient: 0, grads_after: { t1: 1 }, steps: [{ node: "n1", grad_outputs: [0], grad_inputs: [1, null], tensor_grad: 1, hooks: [{ tensor: "t1", grad_in: 0, grad_out: null }] }] }],
  };
  const [one, two] = t.value_table;
  const f = expandTrace(t);
  assert.equal(f.format, undefined);
  assert.equal(f.value_table, undefined);
  assert.equal(f.tensors[0].data, one);
  assert.equal(f.tensors[0].grad, null);
  assert.deepEqual(f.forward[0].values, [one, null]);
  assert.equal(f.forward[0].grad_changes.t1, two);
  assert.equal(f.forward[0].data_changes.t1, one);
  assert.deepEqual([f.forward[0].optim.grad, f.forward[0].optim.before, f.forward[0].optim.after, f.forward[0].optim.terms.momentum_buffer], [two, one, two, two]);
  assert.equal(f.forward[0].optim.hyper.lr, 0.1);
  assert.deepEqual(f.nodes[0].saved.map((s) => s.values), [two, null]);
  const p = f.backward[0];
  assert.deepEqual([p.gradient, p.grads_after.t1, p.steps[0].tensor_grad, p.steps[0].hooks[0].grad_in], [one, two, two, one]);
  assert.deepEqual(p.steps[0].grad_outputs, [one]);
  assert.deepEqual(p.steps[0].grad_inputs, [two, null]);
});

for (const name of ["compact-v2-mlp", "compact-v2-hooks", "compact-v2-loop"]) {
  test(`expandTrace reads compact version 2 (${name}): exactly the full trace, input untouched`, () => {
    const { full, compact } = fixture(name);
    assert.equal(compact.compact_version, 2);
    assert.ok(!Array.isArray(compact.tensors) && compact.tensors.n === full.tensors.length);
    assert.ok(JSON.stringify(compact).length < JSON.stringify(full).length / 2);
    const before = JSON.stringify(compact);
    assert.deepEqual(expandTrace(compact), full);
    assert.equal(JSON.stringify(compact), before);
  });
}

test("compact version 2: float32 numbers are read back through Math.fround, other Values as they are", () => {
  const t = { format: "compact", compact_version: 2, atoms: ["x", [], "float32"], version: 1, status: "ok", error: null,
    stdout: "", variables: {}, warnings: [], stderr: "",
    tensors: { n: 2, c: { name: { rle: [0, 2] }, shape: { rle: [1, 2] }, dtype: { rle: [2, 2] }, data: [0, 1], grad: [null, 2], line: [3, 1] }, d: ["data", "line"] },
    nodes: { n: 0, c: {} }, forward: { n: 0, c: {} }, backward: { n: 0, c: {} },
    value_table: [0.1, [[2], [1.5, "nan"], 1.5, "nan", "nan", "nan"], { shape: [], values: 0.1, min: 0.1, max: 0.1, mean: 0.1, sum: 0.1 }] };
  const f = expandTrace(t);
  assert.deepEqual(f.tensors.map((x) => [x.id, x.line]), [["t1", 3], ["t2", 4]]);
  assert.equal(f.tensors[0].data.values, Math.fround(0.1));
  assert.deepEqual(f.tensors[1].data, { shape: [2], values: [1.5, "nan"], min: 1.5, max: "nan", mean: "nan", sum: "nan" });
  assert.equal(f.tensors[1].grad.values, 0.1); // a float64 Values (object form) is not rounded
  assert.notEqual(f.tensors[0].shape, f.tensors[1].shape); // run-length cells are copies, not one shared array
});

test("bigTrace counts the rows of a compact version 2 trace as of a full one", async () => {
  const { bigTrace } = await import("../static/js/layout/client.js");
  const { full, compact } = fixture("compact-v2-loop");
  const many = (t) => ({ ...t, nodes: Array.isArray(t.nodes) ? [...t.nodes, ...Array(900).fill(t.nodes[0])] : { ...t.nodes, n: t.nodes.n + 900 } });
  assert.equal(bigTrace(compact), bigTrace(full));
  assert.equal(bigTrace(many(compact)), true);
  assert.equal(bigTrace(many(full)), true);
});
