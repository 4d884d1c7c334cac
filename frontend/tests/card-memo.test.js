// The chain-rule card is computed once per (timeline, step, source) and shared read-only by the narration, stage and quiz.
import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { chainCard } from "../static/js/teach/chain-card.js";
import { narrate } from "../static/js/teach/narration.js";
import { question } from "../static/js/teach/quiz.js";

const backwardSteps = (m) => Array.from({ length: m.tl.total + 1 }, (_, k) => k).filter((k) => chainCard(m.tl, k, { source: m.code }));

test("the card for a step is one object: the stage and the narration share it", () => {
  const m = model("zero-grad");
  const ks = backwardSteps(m);
  assert.ok(ks.length > 2);
  for (const k of ks) {
    const card = chainCard(m.tl, k, { source: m.code });
    narrate(m.tl, k, { source: m.code });
    assert.equal(chainCard(m.tl, k, { source: m.code }), card, `step ${k}`);
  }
  const k = ks[0];
  assert.notEqual(chainCard(m.tl, k, { source: "" }), chainCard(m.tl, k, { source: m.code }), "another source is another card");
  assert.notEqual(chainCard(model("zero-grad").tl, k, { source: m.code }), chainCard(m.tl, k, { source: m.code }), "another timeline is another card");
});

test("a shared card is read-only, and narration and quiz leave it as computed", () => {
  const m = model("mse-tanh");
  for (const k of backwardSteps(m)) {
    const card = chainCard(m.tl, k, { source: m.code });
    const before = JSON.stringify(card);
    narrate(m.tl, k, { source: m.code });
    question(card);
    assert.equal(JSON.stringify(card), before, `step ${k}`);
    assert.ok(Object.isFrozen(card) && Object.isFrozen(card.rows) && card.rows.every(Object.isFrozen));
    assert.throws(() => { card.op = "changed"; }, TypeError);
  }
});
