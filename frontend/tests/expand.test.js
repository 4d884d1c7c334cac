import { test } from "node:test";
import assert from "node:assert/strict";
import { expandTrace } from "../static/js/model/expand.js";
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
    forward: [{ values: [0, null], grad_changes: { t1: 1 }, optim: { optimizer: "SGD", hyper: { lr: 0.1 }, param: "t1", grad: 1, before: 0, after: 1, terms: { momentum_buffer: 1 } } }],
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
  assert.deepEqual([f.forward[0].optim.grad, f.forward[0].optim.before, f.forward[0].optim.after, f.forward[0].optim.terms.momentum_buffer], [two, one, two, two]);
  assert.equal(f.forward[0].optim.hyper.lr, 0.1);
  assert.deepEqual(f.nodes[0].saved.map((s) => s.values), [two, null]);
  const p = f.backward[0];
  assert.deepEqual([p.gradient, p.grads_after.t1, p.steps[0].tensor_grad, p.steps[0].hooks[0].grad_in], [one, two, two, one]);
  assert.deepEqual(p.steps[0].grad_outputs, [one]);
  assert.deepEqual(p.steps[0].grad_inputs, [two, null]);
});
