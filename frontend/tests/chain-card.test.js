import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { chainCard } from "../static/js/teach/chain-card.js";
import { nodeHelp, customBackwardSource } from "../static/js/teach/node-help.js";
import { flat } from "../static/js/model/values.js";
import * as nd from "../static/js/model/nd.js";

function cardsOf(name) {
  const m = model(name);
  const out = [];
  for (let k = 0; k <= m.tl.total; k++) { const c = chainCard(m.tl, k, { source: m.code }); if (c) out.push({ k, c }); }
  return { m, out };
}

test("basic-mul: MulBackward0's card says b · dL/dc and evaluates it to what the engine sent", () => {
  const { out } = cardsOf("basic-mul");
  const mul = out.find((x) => x.c.name === "MulBackward0").c;
  assert.equal(mul.op, "c = a · b");
  assert.equal(mul.rows[0].local, "∂c/∂a = b");
  assert.equal(mul.rows[0].send, "b ⊙ dL/dc");
  assert.deepEqual(flat(mul.rows[0].computed), flat(mul.rows[0].sent));
  assert.equal(mul.rows[0].agrees, true);
  assert.match(mul.help, /each input gets the gradient times the other/);
});

test("forward steps and the ready state have no card", () => {
  const { m, out } = cardsOf("basic-mul");
  assert.equal(chainCard(m.tl, 0), null);
  const fwd = m.tl.entries.findIndex((e) => e.kind === "forward") + 1;
  assert.equal(chainCard(m.tl, fwd), null);
  assert.equal(out.length, m.trace.backward.reduce((a, p) => a + p.steps.length, 0));
});

test("AccumulateGrad's card shows .grad before and after (accumulation in zero-grad)", () => {
  const { out } = cardsOf("zero-grad");
  const acc = out.filter((x) => x.c.accumulate);
  assert.ok(acc.length);
  const twice = acc.find((x) => x.c.accumulate.before);
  assert.ok(twice, "a second backward adds to an existing .grad");
  assert.match(twice.c.op, /\+=/);
});

test("custom Function cards quote the user's backward return line", () => {
  const { m, out } = cardsOf("affine-mm2");
  const mm2 = out.find((x) => x.c.name === "Mm2Backward").c;
  assert.equal(mm2.custom.cls, "Mm2");
  assert.equal(m.code.split("\n")[mm2.custom.line - 1].trim(), mm2.custom.text);
  assert.match(mm2.custom.text, /^return grad_output @ W\.T/);
  assert.match(mm2.help, /custom autograd\.Function Mm2/);
});

test("fan-in: the card lists the parts whose sum arrives", () => {
  const { out } = cardsOf("fan-in");
  const acc = out.find((x) => x.c.accumulate && x.c.incoming.parts.length > 1);
  assert.ok(acc, "x receives from two paths");
  const sum = acc.c.incoming.parts.map((p) => flat(p.values)).reduce((a, b) => a.map((x, i) => x + b[i]));
  assert.deepEqual(sum, flat(acc.c.incoming.values));
});

test("nn.Linear: AddmmBackward0 names Wᵀ and the bias sum over the batch", () => {
  const { out } = cardsOf("mlp-training-step");
  const addmm = out.find((x) => x.c.name === "AddmmBackward0").c;
  assert.match(addmm.help, /nn\.Linear: x @ Wᵀ \+ b/);
  assert.ok(addmm.rows.every((r) => r.agrees !== false));
  assert.ok(addmm.rows.some((r) => /weightᵀ/.test(r.local)));
  assert.ok(addmm.rows.some((r) => /summed over the batch/.test(r.local)));
});

test("node help explains internal names", () => {
  for (const n of ["AddmmBackward0", "TBackward0", "PermuteBackward0", "torch::autograd::AccumulateGrad", "torch::autograd::CopySlices"]) {
    assert.ok(nodeHelp(n).length > 10, n);
  }
  assert.equal(customBackwardSource("class A:\n  def backward(ctx, g):\n    return g * 2\n", "A").line, 3);
});

test("nd kit: broadcasting, sum_to_size, mm, softmax, cat and split", () => {
  const a = { shape: [2, 2], data: [1, 2, 3, 4] };
  const b = { shape: [2], data: [10, 20] };
  assert.deepEqual(nd.map((x, y) => x + y, a, b).data, [11, 22, 13, 24]);
  assert.deepEqual(nd.sumTo(a, [2]).data, [4, 6]);
  assert.deepEqual(nd.sumTo(a, [2, 1]).data, [3, 7]);
  assert.deepEqual(nd.mm(a, nd.t(a)).data, [5, 11, 11, 25]);
  const s = nd.softmax({ shape: [2], data: [0, 0] }, 0);
  assert.deepEqual(s.data, [0.5, 0.5]);
  const c = nd.cat([a, a], 1);
  assert.deepEqual(c.shape, [2, 4]);
  assert.deepEqual(nd.piece(c, 1, [2, 2], 1).data, [1, 2, 3, 4]);
});

test("quiz: one right answer among distinct distractors, at a fixed place per step; score counts first answers", async () => {
  const { question, createScore } = await import("../static/js/teach/quiz.js");
  const { out } = cardsOf("basic-mul");
  for (const { c } of out) {
    const q = question(c);
    if (!q) continue;
    const right = q.choices.filter((x) => x.correct);
    assert.equal(right.length, 1);
    assert.equal(new Set(q.choices.map((x) => x.text)).size, q.choices.length);
    assert.ok(q.choices.length >= 3, q.prompt);
    assert.deepEqual(question(c).choices, q.choices, "deterministic");
  }
  const s = createScore();
  s.answer("0:1", false); s.answer("0:1", true); s.answer("0:2", true);
  assert.equal(s.right, 1);
  assert.equal(s.total, 2);
});
