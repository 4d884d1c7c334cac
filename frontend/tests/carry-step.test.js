// Live edit: a re-run of an edited program keeps the step where the same line and op still exist.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline } from "../static/js/model/timeline.js";
import { entryAt } from "../static/js/model/timeline.js";
import { carryStep } from "../static/js/model/carry-step.js";
import { fixture, model } from "./helpers.js";

/** The same trace as if a comment line had been typed above line `at` (every line number from there shifts). */
function withLineInserted(name, at) {
  const fx = JSON.parse(JSON.stringify(fixture(name)));
  const shift = (o) => { if (o && typeof o.line === "number" && o.line >= at) o.line += 1; };
  const t = fx.trace;
  t.forward.forEach(shift); (t.nodes || []).forEach(shift); (t.backward || []).forEach((p) => { shift(p); shift(p.error); });
  const lines = fx.code.split("\n");
  lines.splice(at - 1, 0, "# a note typed during the lecture");
  const code = lines.join("\n");
  const graph = buildGraph(t, { source: code });
  return { code, tl: buildTimeline(t, graph) };
}

test("an unchanged program keeps every step", () => {
  const m = model("basic-mul");
  for (let k = 1; k <= m.tl.total; k++) assert.equal(carryStep(m.tl, m.code, k, m.tl, m.code), k);
  assert.equal(carryStep(m.tl, m.code, 0, m.tl, m.code), null, "at the start there is no position to keep");
});

test("a line inserted above keeps every step on the same line and op (line numbers shifted)", () => {
  const m = model("mlp-training-step");
  const edited = withLineInserted("mlp-training-step", 3);
  for (const k of [1, 5, Math.floor(m.tl.total / 2), m.tl.total]) {
    const j = carryStep(m.tl, m.code, k, edited.tl, edited.code);
    assert.equal(j, k);
    assert.equal(entryAt(edited.tl, j).kind, entryAt(m.tl, k).kind);
  }
});

test("another program: a step whose line and op are gone falls back to the last one that still exists, else null", () => {
  const a = model("basic-mul"), b = model("fan-in");
  // basic-mul's steps: tensor a (line 3), tensor b (line 4), mul, pow, sum, then backward. fan-in has no such lines
  // except "import torch", so nothing matches: null, the page's default start.
  assert.equal(carryStep(a.tl, a.code, 4, b.tl, b.code), null);
  // basic-mul with its last forward line changed: steps up to d = c ** 2 stay, the sum (gone) falls back to the pow.
  const code2 = a.code.replace("e = torch.sum(d)", "e = torch.sum(d) * 1");
  assert.equal(carryStep(a.tl, a.code, 4, a.tl, code2), 4);
  assert.equal(carryStep(a.tl, a.code, 5, a.tl, code2), 4);
});
