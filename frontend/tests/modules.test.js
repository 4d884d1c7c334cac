// The module overview's model: module groups from Trace.modules, folded repeats, parameters in their module,
// bookkeeping off the graph, levels and the level chooser (layout/levels.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fixture } from "./helpers.js";
import { buildGraph } from "../static/js/model/graph.js";
import { bookkeeping } from "../static/js/model/bookkeeping.js";
import { groupText } from "../static/js/model/modules.js";
import { layoutGraph, layoutBoxes } from "../static/js/layout/layout.js";
import { chooseLevel, collapsedAt, maxLevel, readableShare } from "../static/js/layout/levels.js";

const { trace } = fixture("module-blocks");
const byPath = (g) => new Map([...g.groups.values()].filter((x) => x.module && !x.fold).map((x) => [x.path, x]));

test("module groups follow Trace.modules: class, parameters, output shape, named_modules paths", () => {
  const g = buildGraph(trace);
  const mods = byPath(g);
  assert.deepEqual([...mods.keys()].sort(), ["net", "net.blocks.0", "net.blocks.0.fc", "net.blocks.1", "net.blocks.1.fc",
    "net.blocks.2", "net.blocks.2.fc", "net.head"]);
  assert.deepEqual(mods.get("net.blocks.1").module, { cls: "Block", params: 6, shape: [1, 2] });
  assert.equal(mods.get("net.blocks.1.fc").label, "fc");
  assert.deepEqual(groupText(mods.get("net.head")), { title: "head · Linear", sub: "3 params → [1, 1]" });
});

test("repeated blocks fold: blocks.1 and blocks.2 in one 'Block ×2' group beside blocks.0", () => {
  const g = buildGraph(trace);
  const mods = byPath(g);
  const folds = [...g.groups.values()].filter((x) => x.fold);
  assert.equal(folds.length, 1);
  assert.equal(folds[0].label, "Block ×2");
  assert.deepEqual(folds[0].fold.of.map((k) => g.groups.get(k).path), ["net.blocks.1", "net.blocks.2"]);
  assert.equal(mods.get("net.blocks.0").parent, mods.get("net").key);
  assert.equal(mods.get("net.blocks.2").parent, folds[0].key);
});

test("a module's parameters and their AccumulateGrad sit in its box", () => {
  const g = buildGraph(trace);
  const fc0 = byPath(g).get("net.blocks.0.fc");
  const weight = [...g.nodes.values()].find((d) => d.type === "tensor" && d.label === "net.blocks.0.fc.weight");
  assert.ok(weight, "the parameter is named by its module path");
  assert.equal(weight.group, fc0.key);
  const acc = [...g.nodes.values()].find((d) => d.kind === "accumulate" && d.node.tensor === weight.id);
  assert.equal(acc.group, fc0.key);
});

test("optimizer state and clipping norms are off the graph unless asked for, then in one block", () => {
  const found = bookkeeping(trace);
  assert.ok(found.tensors.size >= 8, "Adam's exp_avg and exp_avg_sq for 8 parameters, clipping norms");
  const g = buildGraph(trace);
  for (const t of found.tensors) assert.ok(!g.nodes.has(`t:${t}`), t);
  for (const i of found.steps) assert.ok(trace.forward[i].kind === "optim" || trace.forward[i].bookkeeping || trace.forward[i].node == null);
  const all = buildGraph(trace, { bookkeeping: true });
  for (const t of found.tensors) assert.equal(all.nodes.get(`t:${t}`)?.group, "g:book", t);
  // the model's own tensors are drawn either way; each parameter's .grad stays a chip on its parameter
  for (const d of g.nodes.values()) assert.ok(all.nodes.has(d.key), d.key);
  assert.ok([...g.nodes.values()].every((d) => d.kind !== "grad"));
});

test("levels: level d closes modules d deep or deeper; the chooser takes the deepest readable one", async () => {
  const g = buildGraph(trace);
  assert.equal(maxLevel(g), 2);
  const mods = byPath(g);
  const at1 = collapsedAt(g, 1);
  assert.ok(at1.has(mods.get("net.blocks.0").key) && !at1.has(mods.get("net").key));
  assert.ok([...g.groups.values()].filter((x) => x.fold).every((x) => at1.has(x.key)), "folds stay closed");
  const fitScale = (w, h) => (l) => Math.min(1.4, 0.97 * Math.min(w / l.width, h / l.height));
  const pick = (w, h) => chooseLevel(g, { w, h, fitScale: fitScale(w, h), boxesAt: (d) => layoutBoxes(g, { collapsed: collapsedAt(g, d) }),
    layoutAt: (d) => layoutGraph(g, { collapsed: collapsedAt(g, d) }) });
  const big = await pick(4000, 3000), small = await pick(300, 200);
  assert.ok(big.level > small.level, `${big.level} > ${small.level}`);
  assert.equal(small.level, 0);
  assert.ok(readableShare(big.layout, fitScale(4000, 3000)(big.layout)) >= 0.85);
});
