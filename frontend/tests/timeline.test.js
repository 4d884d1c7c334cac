import { test } from "node:test";
import assert from "node:assert/strict";
import { model, flatOf } from "./helpers.js";
import { entryAt, buildTimeline } from "../static/js/model/timeline.js";
import { stateAt } from "../static/js/model/state.js";
import { buildGraph } from "../static/js/model/graph.js";
import { placePasses } from "../static/js/model/order.js";
import { narrate } from "../static/js/teach/narration.js";

const byName = (trace, name) => trace.tensors.find((t) => t.name === name);

test("the sequence is every forward step and every backward step once", () => {
  for (const name of ["basic-mul", "zero-grad", "retain-graph", "mlp-training-step", "affine-mm2"]) {
    const { trace, tl } = model(name);
    const expected = trace.forward.length + trace.backward.reduce((a, p) => a + p.steps.length, 0);
    assert.equal(tl.total, expected, name);
    const fw = tl.entries.filter((e) => e.kind === "forward").map((e) => e.index);
    assert.deepEqual(fw, trace.forward.map((_, i) => i));
  }
});

test("step 0 shows nothing; the end shows everything with the final .grad", () => {
  const { trace, graph, tl } = model("basic-mul");
  const s0 = stateAt(tl, 0);
  assert.ok([...graph.nodes.keys()].every((k) => !s0.visible(k)));
  const end = stateAt(tl, tl.total);
  assert.ok([...graph.nodes.keys()].every((k) => end.visible(k)));
  for (const t of trace.tensors) assert.equal(flatOf(end.grad(t.id)), flatOf(t.grad), t.name);
});

test("forward steps reveal nodes in execution order", () => {
  const { trace, tl } = model("basic-mul");
  const c = byName(trace, "c");
  const k = tl.entries.findIndex((e) => e.kind === "forward" && trace.forward[e.index].outputs.includes(c.id)) + 1;
  assert.ok(!stateAt(tl, k - 1).visible(`t:${c.id}`));
  assert.ok(stateAt(tl, k).visible(`t:${c.id}`));
  assert.ok(stateAt(tl, k).visible(`n:${c.grad_fn}`));
});

test("leaf .grad fills only when its AccumulateGrad runs", () => {
  const { trace, tl } = model("basic-mul");
  const a = byName(trace, "a");
  const k = tl.entries.findIndex((e) => e.kind === "backward" && trace.backward[0].steps[e.index].node === trace.nodes.find((n) => n.tensor === a.id && n.kind === "accumulate").id) + 1;
  assert.equal(stateAt(tl, k - 1).grad(a.id), null);
  assert.deepEqual(stateAt(tl, k).grad(a.id).values, [8, 64, 216]);
});

test("retain_graph: the second backward accumulates onto the first", () => {
  const { trace, tl } = model("retain-graph");
  const leaf = trace.tensors.find((t) => t.is_leaf && t.requires_grad);
  const [p1, p2] = tl.passRange;
  const g1 = stateAt(tl, p1.end).grad(leaf.id);
  const g2 = stateAt(tl, p2.end).grad(leaf.id);
  const f1 = g1.values.flat(9), f2 = g2.values.flat(9);
  f1.forEach((x, i) => assert.ok(Math.abs(f2[i] - 2 * x) < 1e-5));
});

test("zero_(): passes sit where the program ran them, and zeroing resets .grad", () => {
  const { trace, tl } = model("zero-grad");
  const zero = trace.forward.findIndex((s) => s.op === "zero_");
  assert.ok(tl.positions[1] < zero && tl.positions[2] >= zero, JSON.stringify(tl.positions));
  const inp = byName(trace, "inp");
  const kz = tl.entries.findIndex((e) => e.kind === "forward" && e.index === zero) + 1;
  assert.ok(stateAt(tl, kz).grad(inp.id).values.flat(9).every((x) => x === 0));
  assert.ok(stateAt(tl, kz - 1).grad(inp.id).values.flat(9).some((x) => x !== 0));
});

test("fan-in: three paths into x are summed, and each part is kept", () => {
  const { trace, tl } = model("fan-in");
  const x = byName(trace, "x");
  const flow = stateAt(tl, tl.total).flow;
  const f = flow.tensorFlow.get(x.id);
  assert.equal(f.parts.length, 3);
  assert.deepEqual(f.sum.values, [3, 5, 7]);
});

test("flow tracks ran/pending nodes and the edges gradients used", () => {
  const { trace, tl } = model("basic-mul");
  const k = tl.passRange[0].start + 2;
  const s = stateAt(tl, k);
  const mul = trace.nodes.find((n) => n.name === "MulBackward0");
  assert.equal(s.flow.current.node, mul.id);
  assert.ok(s.flow.done.has(mul.id));
  assert.equal(s.flow.sent.length, 2);
  assert.ok(s.flow.pending.size >= 2);
  assert.ok(s.flow.edgeGrad.size >= 4);
  assert.equal(entryAt(tl, k).kind, "backward");
});

test("seeking backwards and forwards gives the same state as stepping", () => {
  const { tl } = model("apple-tangerine");
  const snap = (k) => { const s = stateAt(tl, k); return JSON.stringify([s.k, s.flow && [...s.flow.done], s.flow && [...s.flow.tensorFlow.keys()]]); };
  const forward = [];
  for (let k = 0; k <= tl.total; k++) forward.push(snap(k));
  for (let k = tl.total; k >= 0; k--) assert.equal(snap(k), forward[k]);
});

test("an error trace still has a timeline of what ran, ending with the failed backward call", () => {
  const { trace, tl } = model("detach-error");
  assert.equal(trace.status, "error");
  assert.equal(tl.total, trace.forward.length + 1);
  assert.deepEqual(entryAt(tl, tl.total), { kind: "error", pass: 0 });
  const n = narrate(tl, tl.total, { source: "" });
  assert.match(n.title, /failed/);
  assert.match(n.text, /fails before any node ran\. The program stopped with RuntimeError \(line \d+\)\. Why: e does not require grad .*detach\(\).* \u2068element 0 of tensors does not require grad/);
  assert.equal(stateAt(tl, tl.total).line, trace.backward[0].line);
});

test("hooks and retain_grad show up at their step", () => {
  const { trace, tl } = model("register-hook");
  const k = tl.entries.findIndex((e) => e.kind === "backward" && trace.backward[e.pass].steps[e.index].hooks?.length) + 1;
  assert.ok(k > 0);
  const s = stateAt(tl, k);
  const hook = s.stepData.hooks[0];
  const f = s.flow.tensorFlow.get(hook.tensor);
  assert.deepEqual(f.sum, hook.grad_out, "the tensor shows the gradient after its hook");
  assert.deepEqual(f.hook.before, hook.grad_in);
});

test("after_forward places every pass exactly: it ran between forward[k-1] and forward[k]", () => {
  for (const name of ["zero-grad", "retain-grad", "mlp-training-step", "second-derivative", "caught-errors", "doubling-loop"]) {
    const { trace, tl } = model(name);
    assert.deepEqual(tl.positions, trace.backward.map((p) => p.after_forward - 1), name);
    trace.backward.forEach((p, i) => { // the entry just before the pass's first one is forward[after_forward - 1]
      const first = tl.entries.findIndex((e) => e.kind !== "forward" && e.pass === i);
      const before = tl.entries.slice(0, first).filter((e) => e.kind === "forward").length;
      assert.equal(before, p.after_forward, `${name} pass ${i}`);
    });
  }
});

test("after_forward wins over the line guess; without it the guess is used; call order is kept", () => {
  const { trace } = model("zero-grad");
  const seq = (g) => (id) => g.nodes.get(`n:${id}`)?.seq ?? Infinity;
  const g = buildGraph(trace);
  const stripped = { ...trace, backward: trace.backward.map(({ after_forward, ...p }) => p) };
  const guessed = placePasses(stripped, seq(g));
  assert.deepEqual(guessed, trace.backward.map((p) => p.after_forward - 1), "the guess agrees on straight-line code");
  const moved = { ...trace, backward: trace.backward.map((p, i) => ({ ...p, after_forward: i === 1 ? trace.forward.length : p.after_forward })) };
  const pos = placePasses(moved, seq(g));
  assert.equal(pos[1], trace.forward.length - 1);
  assert.equal(pos[2], trace.forward.length - 1, "a later pass never moves before an earlier one");
  const tl = buildTimeline(moved, g);
  assert.equal(tl.total, trace.forward.length + trace.backward.reduce((a, p) => a + p.steps.length, 0));
});

test("a caught backward error is one timeline step with the error in the narration", () => {
  const { trace, tl, code } = model("caught-errors");
  const failed = trace.backward.map((p, i) => [p, i]).filter(([p]) => p.error);
  assert.equal(failed.length, 2);
  const expected = trace.forward.length + trace.backward.reduce((a, p) => a + p.steps.length + (p.error ? 1 : 0), 0);
  assert.equal(tl.total, expected);
  for (const [p, i] of failed) {
    const ks = tl.entries.map((e, j) => [e, j + 1]).filter(([e]) => e.pass === i && e.kind !== "forward");
    assert.equal(ks.length, p.steps.length + 1, "its nodes, then the error");
    const [last, k] = ks[ks.length - 1];
    assert.equal(last.kind, "error");
    const n = narrate(tl, k, { source: code });
    assert.match(n.title, new RegExp(`Backward pass ${i + 1}/${trace.backward.length} · failed`));
    assert.ok(n.text.includes(p.error.message), n.text);
    assert.match(n.text, /caught the error and went on/);
    const s = stateAt(tl, k);
    assert.equal(s.flow, null);
    assert.equal(s.line, p.line);
    assert.equal(tl.passRange[i].end, k);
  }
  const zero = failed.find(([p]) => !p.steps.length);
  assert.ok(zero, "the fixture has a pass that failed before any node ran");
  assert.match(narrate(tl, tl.passRange[zero[1]].start, { source: code }).text, /before any node ran/);
  assert.equal(tl.passRange[zero[1]].start, tl.passRange[zero[1]].end);
  const x = byName(trace, "x"); // the caught passes left x.grad as the first backward made it until z.backward()
  assert.deepEqual(stateAt(tl, tl.total).grad(x.id).values, x.grad.values);
});
