import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { loopTrace } from "./synthetic.js";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline } from "../static/js/model/timeline.js";
import { layoutGraph } from "../static/js/layout/layout.js";

function overlaps(layout, keys) {
  const boxes = keys.map((k) => layout.nodes.get(k));
  let n = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (Math.abs(a.x - b.x) * 2 < a.width + b.width - 1 && Math.abs(a.y - b.y) * 2 < a.height + b.height - 1) n++;
  }
  return n;
}

test("small graphs: every node placed, none overlapping, every edge routed", () => {
  for (const name of ["basic-mul", "apple-tangerine", "affine-mm2", "mlp-training-step", "multi-output"]) {
    const { graph, tl } = model(name);
    for (const rankdir of ["LR", "TB"]) {
      const lay = layoutGraph(graph, { rankdir, hints: tl.hints });
      const keys = [...graph.nodes.keys()];
      keys.forEach((k) => assert.ok(Number.isFinite(lay.nodes.get(k)?.x), `${name} ${k}`));
      assert.equal(overlaps(lay, keys), 0, `${name} ${rankdir}`);
      for (const e of graph.edges.values()) assert.ok(lay.edges.get(e.key)?.points?.length >= 2, `${name} ${e.key}`);
    }
  }
});

test("AccumulateGrad sits under its leaf instead of taking a rank", () => {
  const { graph, tl } = model("basic-mul");
  const lay = layoutGraph(graph, { hints: tl.hints });
  for (const d of graph.nodes.values()) {
    if (d.kind !== "accumulate") continue;
    const leaf = lay.nodes.get(`t:${d.node.tensor}`), acc = lay.nodes.get(d.key);
    assert.equal(acc.x, leaf.x);
    assert.ok(acc.y > leaf.y);
  }
});

test("collapsing a module group folds its members into one box", () => {
  const { graph, tl } = model("mlp-training-step");
  const open = layoutGraph(graph, { hints: tl.hints });
  const all = new Set(graph.groups.keys());
  const shut = layoutGraph(graph, { collapsed: all, hints: tl.hints });
  const grp = [...graph.groups.values()][0];
  const owners = new Set(grp.members.map((k) => shut.nodes.get(k).owner));
  assert.equal(owners.size, 1);
  assert.ok(shut.groups.get([...owners][0])?.[0]?.collapsed || [...shut.groups.values()].some((b) => b[0].collapsed));
  assert.ok(open.groups.size > 0);
});

test("a 5,000-node loop lays out (chunked rows, stubs for the shared weight)", () => {
  const trace = loopTrace(1700);
  const graph = buildGraph(trace);
  const tl = buildTimeline(trace, graph);
  assert.ok(graph.nodes.size > 3400);
  const lay = layoutGraph(graph, { hints: tl.hints }); // its time is a benchmark (bench/browser_bench.py), not a test
  assert.ok(lay.chunks > 1);
  assert.ok(lay.stubs.size > 100);
  for (const k of graph.nodes.keys()) assert.ok(Number.isFinite(lay.nodes.get(k).x), k);
});
