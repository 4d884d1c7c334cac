import { test } from "node:test";
import assert from "node:assert/strict";
import { model, fixture } from "./helpers.js";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline, dataAt } from "../static/js/model/timeline.js";
import { stateAt } from "../static/js/model/state.js";
import { buildLoops, iterationAt, iterationKey, recordedIterations, seriesPoints } from "../static/js/model/loops.js";
import { narrateUpdate, learningRate, fmtHyper } from "../static/js/teach/update-narration.js";
import { narrate } from "../static/js/teach/narration.js";
import { flat } from "../static/js/model/values.js";

const loaded = (name) => {
  const m = model(name);
  return { ...m, loops: buildLoops(m.trace, m.tl) };
};

test("recorded iterations: one per Trace.loops[].recorded entry, in order, keyed and labelled", () => {
  const { trace } = fixture("loop-poly");
  const its = recordedIterations(trace);
  assert.deepEqual(its.map((i) => i.label), ["iteration 0", "iteration 1", "iteration 2"]);
  assert.deepEqual(its.map((i) => i.key), [0, 1, 2].map((i) => iterationKey("L1", i)));
  assert.deepEqual(its.map((i) => i.forward), trace.loops[0].recorded.map((r) => r.forward));
});

test("every timeline step inside an iteration maps to it; spans are ordered and disjoint", () => {
  const { tl, loops, trace } = loaded("loop-poly");
  const { spans, stepIter } = loops;
  assert.equal(spans.length, 3);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i].start > spans[i - 1].end, "iterations follow each other");
  for (let k = 1; k <= tl.total; k++) {
    const e = tl.entries[k - 1];
    const want = e.kind === "forward" ? trace.forward[e.index].iteration?.index ?? -1
      : trace.loops[0].recorded.findIndex((r) => r.backward.includes(e.pass));
    assert.equal(stepIter[k], want, `step ${k}`);
  }
  // each iteration holds its own backward pass
  for (const [i, r] of trace.loops[0].recorded.entries()) {
    assert.ok(tl.passRange[r.backward[0]].start >= spans[i].start && tl.passRange[r.backward[0]].end <= spans[i].end);
  }
});

test("iterationAt is a function of (trace, k): the iteration of step k, else the last one begun", () => {
  const a = loaded("loop-poly"), b = loaded("loop-poly");
  for (let k = 0; k <= a.tl.total; k++) assert.equal(iterationAt(a.loops, k)?.key, iterationAt(b.loops, k)?.key);
  assert.equal(iterationAt(a.loops, 0), null, "before the loop nothing is selected");
  assert.equal(iterationAt(a.loops, a.loops.spans[1].start).index, 1);
  assert.equal(iterationAt(a.loops, a.tl.total).index, 2);
});

test("the graph gets one group per iteration around that iteration's nodes; shared leaves stay outside", () => {
  const { graph, trace } = loaded("loop-poly");
  const its = recordedIterations(trace);
  for (const it of its) {
    const grp = graph.groups.get(it.key);
    assert.ok(grp, it.key);
    assert.equal(grp.path, it.label);
    assert.ok(grp.members.length >= 10, `${it.key} has the iteration's ops and tensors`);
    for (const m of grp.members) {
      const d = graph.nodes.get(m);
      assert.ok(d.seq >= it.forward[0] && d.seq < it.forward[1], `${m} made inside ${it.label}`);
    }
  }
  for (const leaf of ["a", "b", "c", "d"]) {
    const t = trace.tensors.find((x) => x.name === leaf);
    assert.equal(graph.nodes.get(`t:${t.id}`).group, null, `${leaf} belongs to every iteration`);
  }
  const noLoops = buildGraph({ ...trace, loops: undefined });
  assert.ok(![...noLoops.groups.keys()].some((k) => k.startsWith("g:it:")));
});

test("series points keep one slot per iteration; nan and null leave gaps", () => {
  const pts = seriesPoints({ name: "loss", values: [3, "nan", null, 1.5] });
  assert.deepEqual(pts, [{ i: 0, v: 3 }, { i: 1, v: null }, { i: 2, v: null }, { i: 3, v: 1.5 }]);
});

test("a hand-written update under no_grad is narrated as gradient descent with numbers that add up", () => {
  const { tl, code, trace } = loaded("loop-poly");
  const texts = [];
  for (let k = 1; k <= tl.total; k++) {
    const n = narrateUpdate(tl, k, { source: code });
    if (!n) continue;
    texts.push(n.text);
    assert.equal(narrate(tl, k, { source: code }).text, n.text, "narration.js hands updates to this module");
    const m = /Gradient descent: (\w) ← \1 − lr·\1\.grad with learning_rate = 1e-5: \1 = (\S+) − 1e-5 × \(?(\S+?)\)? = (\S+)\./.exec(n.text);
    assert.ok(m, n.text);
    const [before, grad, after] = [m[2], m[3], m[4]].map(Number);
    assert.ok(Math.abs(before - 1e-5 * grad - after) < 2e-3 * Math.max(1, Math.abs(after)), n.text);
    // the numbers are the trace's: after = this step's output, grad = the .grad backward left
    const s = trace.forward[tl.entries[k - 1].index];
    assert.ok(Math.abs(flat(s.values[0])[0] - after) < 1e-3 * Math.max(1, Math.abs(after)));
    assert.equal(stateAt(tl, k).stepData, s);
  }
  assert.equal(texts.length, 12, "4 parameters × 3 iterations");
});

test("optimizer.step() (ForwardStep.optim): SGD momentum narrated with the buffer, the lr and w's numbers", () => {
  const { tl, code, trace } = loaded("loop-sgd");
  const ks = [];
  for (let k = 1; k <= tl.total; k++) if (narrateUpdate(tl, k, { source: code })) ks.push(k);
  assert.equal(ks.length, 3);
  const first = narrateUpdate(tl, ks[0], { source: code }).text;
  const second = narrateUpdate(tl, ks[1], { source: code }).text;
  assert.match(first, /SGD \(lr = 1e-5, momentum = 0\.9\)/);
  assert.match(first, /momentum buffer: buf ← 0\.9·buf \+ w\.grad \(on the first step the buffer is just the gradient\)/);
  assert.doesNotMatch(second, /first step/);
  const o = trace.forward[tl.entries[ks[1] - 1].index].optim;
  const [b, buf, a] = [o.before, o.terms.momentum_buffer, o.after].map((v) => flat(v)[0]);
  assert.ok(Math.abs(b - 1e-5 * buf - a) < 1e-6, "the fixture is SGD's own arithmetic");
  assert.ok(second.includes(`w[0] = ${Number(b.toPrecision(4))} − 1e-5 × (${Number(buf.toPrecision(4))}) = ${Number(a.toPrecision(4))}`), second);
});

test("Adam: m, v and the bias-corrected step are named, and the step recomputes to the new value", () => {
  const V = (xs) => ({ shape: [xs.length], values: xs });
  const g = 0.5, lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const m = (1 - b1) * g, v = (1 - b2) * g * g;
  const after = 1 - lr * (m / (1 - b1)) / (Math.sqrt(v / (1 - b2)) + eps);
  const trace = {
    tensors: [{ id: "t1", name: "w", shape: [1], requires_grad: true, is_leaf: true, data: V([after]) }],
    nodes: [], backward: [], variables: {},
    forward: [{ op: "add_", inputs: ["t1"], outputs: ["t1"], node: null, grad_enabled: false, kind: "optim", line: 1, values: [V([after])],
      optim: { optimizer: "Adam", hyper: { lr, betas: [b1, b2], eps }, param: "t1", grad: V([g]), before: V([1]), after: V([after]),
        terms: { exp_avg: V([m]), exp_avg_sq: V([v]), step: { shape: [], values: 1 } } } }],
  };
  const graph = buildGraph(trace), tl = buildTimeline(trace, graph);
  const text = narrateUpdate(tl, 1, { source: "opt.step()" }).text;
  assert.match(text, /exp_avg m ← 0\.9·m \+ 0\.1·grad/);
  assert.match(text, /exp_avg_sq v ← 0\.999·v \+ 0\.001·grad²/);
  assert.match(text, /w = 1 − 0\.1 × 0\.5\/\(√0\.25 \+ 1e-8\) = 0\.9/);
  assert.match(text, /^Line 1: opt\.step\(\) — Adam \(/, "the source line says the call; it is not repeated");
  assert.match(narrateUpdate(tl, 1, { source: "" }).text, /^Line 1 — optimizer\.step\(\): Adam \(/, "without the line's text the call is named");
  assert.ok(Math.abs(after - 0.9) < 1e-6);
});

test("learningRate reads one lr from before/after/grad, and refuses when elements disagree", () => {
  assert.ok(Math.abs(learningRate([1, 2], [0.9, 2.2], [10, -20]) - 0.01) < 1e-12);
  assert.equal(learningRate([1, 2], [0.9, 2.5], [10, -20]), null);
  assert.equal(fmtHyper(1e-6), "1e-6");
  assert.equal(fmtHyper(0.9), "0.9");
  assert.equal(fmtHyper(2.5e-4), "2.5e-4");
});

test("the optimizer's internal steps without ForwardStep.optim keep their old caption", () => {
  const { tl, code } = loaded("mlp-training-step");
  for (let k = 1; k <= tl.total; k++) assert.equal(narrateUpdate(tl, k, { source: code }), null);
});

test("real tracer, folded loop: the last iteration's update starts from w's value then, not from iteration 2's", () => {
  const { tl, loops, code, trace } = loaded("loop-poly-real");
  const last = loops.iters.length - 1;
  assert.equal(loops.iters[last].index, 29);
  const a = trace.tensors.find((t) => t.name === "a").id;
  const start = loops.spans[last].start;
  // the first in-place write of a in the last iteration: a -= learning_rate * a.grad
  const upd = trace.forward.findIndex((s, i) => i >= loops.iters[last].forward[0] && s.op === "sub_" && s.inputs[0] === a);
  const k = tl.entries.findIndex((e) => e.kind === "forward" && e.index === upd) + 1;
  const after = flat(trace.forward[upd].values[0])[0];
  const u = flat(dataAt(tl, trace.forward[upd].inputs[1], k - 1))[0];
  assert.ok(Math.abs(flat(dataAt(tl, a, start))[0] - (after + u)) < 1e-6, "repaired at the iteration's first step");
  assert.ok(Math.abs(flat(dataAt(tl, a, start - 1))[0] - (after + u)) > 1e-4, "the step before still shows iteration 2's value");
  const text = narrateUpdate(tl, k, { source: code }).text;
  const m = /learning_rate = 1e-4: a = (\S+) − 1e-4 × \(?(\S+?)\)? = (\S+)\./.exec(text);
  assert.ok(m, text);
  assert.ok(Math.abs(Number(m[1]) - (after + u)) < 1e-3 * Math.max(1, Math.abs(after)), text);
  assert.ok(Math.abs(Number(m[3]) - after) < 1e-3 * Math.max(1, Math.abs(after)), text);
});

test("real tracer, optimizer.step(): SGD momentum narrated from ForwardStep.optim, numbers consistent", () => {
  const { tl, code, trace } = loaded("loop-optim-real");
  let n = 0;
  for (let k = 1; k <= tl.total; k++) {
    const e = tl.entries[k - 1];
    const s = e.kind === "forward" ? trace.forward[e.index] : null;
    const got = narrateUpdate(tl, k, { source: code });
    assert.equal(!!got, !!s?.optim, `step ${k}`);
    if (!got) continue;
    n++;
    assert.match(got.text, /SGD \(lr = 1e-4, momentum = 0\.9/);
    // the line is quoted once: "Line 17: optimizer.step() — SGD (…)", not "… — optimizer.step(): SGD"
    assert.equal(got.text.split("optimizer.step()").length, 2, got.text);
    assert.match(got.text, /^Line \d+: optimizer\.step\(\) — SGD \(/);
    const [b, buf, a] = [s.optim.before, s.optim.terms.momentum_buffer, s.optim.after].map((v) => flat(v)[0]);
    assert.ok(Math.abs(b - 1e-4 * buf - a) < 1e-5 * Math.max(1, Math.abs(a)), "SGD's own arithmetic");
  }
  assert.equal(n, 8, "weight and bias × 4 recorded iterations");
});

test("RMSprop (the tutorial's optim version): square_avg named, and the step recomputes to the new value", () => {
  const V = (xs) => ({ shape: [xs.length], values: xs });
  const g = 9.05, lr = 1e-3, alpha = 0.99, eps = 1e-8, before = 0.5;
  const v = (1 - alpha) * g * g;
  const after = before - (lr * g) / (Math.sqrt(v) + eps);
  const trace = {
    tensors: [{ id: "t1", name: "w", shape: [1], requires_grad: true, is_leaf: true, data: V([after]) }], nodes: [], backward: [], variables: {},
    forward: [{ op: "addcdiv_", inputs: ["t1"], outputs: ["t1"], node: null, grad_enabled: false, kind: "optim", line: 1, values: [V([after])],
      optim: { optimizer: "RMSprop", hyper: { lr, alpha, eps, momentum: 0, centered: false }, param: "t1", grad: V([g]), before: V([before]), after: V([after]),
        terms: { square_avg: V([v]), step: { shape: [], values: 1 } } } }],
  };
  const graph = buildGraph(trace), tl = buildTimeline(trace, graph);
  const text = narrateUpdate(tl, 1, { source: "optimizer.step()" }).text;
  assert.match(text, /square_avg v ← 0\.99·v \+ 0\.01·grad²/);
  const m = /w = (\S+) − 0\.001 × (\S+)\/\(√(\S+) \+ 1e-8\) = (\S+)\./.exec(text);
  assert.ok(m, text);
  const [b, gg, vv, a] = m.slice(1).map(Number);
  assert.ok(Math.abs(b - (lr * gg) / Math.sqrt(vv) - a) < 1e-3 * Math.abs(a), text);
});
