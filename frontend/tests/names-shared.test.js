// The card, the narration and the panel name a tensor from one table per (trace, source), whatever runs first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { chainCard } from "../static/js/teach/chain-card.js";
import { narrate } from "../static/js/teach/narration.js";
import { namesOf, nameIndex } from "../static/js/model/names.js";

const labels = (m) => Array.from({ length: m.tl.total + 1 }, (_, k) => chainCard(m.tl, k, { source: m.code }))
  .filter(Boolean).map((c) => `${c.incoming.label} | ${c.op}`);
const narrateAll = (m) => { for (let k = 0; k <= m.tl.total; k++) narrate(m.tl, k, { source: m.code }); };

for (const name of ["autograd-grad", "zero-grad"]) {
  test(`${name}: the card names tensors the same whether it or the narration runs first`, () => {
    const cardFirst = model(name);
    const first = labels(cardFirst);
    const narrationFirst = model(name);
    narrateAll(narrationFirst);
    assert.deepEqual(first, labels(narrationFirst));
    narrateAll(cardFirst);
    assert.deepEqual(labels(cardFirst), first, "a later narration does not rename the card's tensors");
  });
}

test("the card uses the program's own words for unnamed intermediates, as the narration does", () => {
  const m = model("autograd-grad");
  const card = labels(m).join("\n");
  assert.ok(card.includes("dL/d(x ** 3 + 2 * x)"), card);
  assert.ok(Array.from({ length: m.tl.total + 1 }, (_, k) => narrate(m.tl, k, { source: m.code }).text).some((t) => t.includes("dL/d(x ** 3 + 2 * x)")));
});

test("namesOf is one table per trace and source, equal to a fresh nameIndex", () => {
  const m = model("autograd-grad");
  assert.equal(namesOf(m.trace, m.code), namesOf(m.trace, m.code));
  assert.notEqual(namesOf(m.trace, m.code), namesOf(m.trace, ""));
  assert.deepEqual(namesOf(m.trace, m.code), nameIndex(m.trace, m.code));
  assert.equal(Object.getOwnPropertyNames(m.tl).includes("_names"), false, "no cache stamped on the timeline");
});
