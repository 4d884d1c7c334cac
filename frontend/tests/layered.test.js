import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { loopTrace } from "./synthetic.js";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline } from "../static/js/model/timeline.js";
import { layoutGraph } from "../static/js/layout/layout.js";
import { layeredLayout } from "../static/js/layout/layered.js";

const box = (key, w = 40, h = 20, seq = 0) => ({ key, width: w, height: h, seq });

function overlapsIn(lay, keys) {
  const bs = keys.map((k) => lay.nodes.get(k));
  let n = 0;
  for (let i = 0; i < bs.length; i++) for (let j = i + 1; j < bs.length; j++) {
    const a = bs[i], b = bs[j];
    if (a.chunk !== b.chunk || a.owner !== keys[i] || b.owner !== keys[j]) continue;
    if (Math.abs(a.x - b.x) * 2 < a.width + b.width - 1 && Math.abs(a.y - b.y) * 2 < a.height + b.height - 1) n++;
  }
  return n;
}

test("layered layout: every edge goes forward along the ranks, nodes of a rank do not overlap", () => {
  // a diamond plus a long edge a→d that needs dummy nodes
  const nodes = [box("a", 40, 20, 0), box("b", 60, 30, 1), box("c", 30, 20, 2), box("d", 40, 20, 3), box("e", 40, 20, 4)];
  const edges = [{ source: "a", target: "b" }, { source: "a", target: "c" }, { source: "b", target: "d" }, { source: "c", target: "d" }, { source: "d", target: "e" }, { source: "a", target: "e" }];
  for (const rankdir of ["LR", "TB"]) {
    const r = layeredLayout(nodes, edges, { rankdir });
    const along = (k) => (rankdir === "LR" ? r.pos.get(k).x : r.pos.get(k).y);
    const across = (k) => (rankdir === "LR" ? r.pos.get(k).y : r.pos.get(k).x);
    for (const e of edges) assert.ok(along(e.source) < along(e.target), `${rankdir} ${e.source}→${e.target}`);
    assert.equal(along("b"), along("c"), "b and c share a rank");
    assert.ok(Math.abs(across("b") - across("c")) >= (rankdir === "LR" ? 25 : 45) + 18 - 1e-9, "separated by nodesep");
    const long = r.points.get(5);
    assert.ok(long.length >= 4, "a→e runs through a dummy per rank it crosses");
    for (const p of [...r.pos.values()]) assert.ok(p.x > 0 && p.y > 0 && p.x < r.width && p.y < r.height);
  }
});

test("layered layout survives cycles and isolated nodes", () => {
  const nodes = [box("a"), box("b"), box("c"), box("z")];
  const r = layeredLayout(nodes, [{ source: "a", target: "b" }, { source: "b", target: "c" }, { source: "c", target: "a" }]);
  for (const k of ["a", "b", "c", "z"]) assert.ok(Number.isFinite(r.pos.get(k).x) && Number.isFinite(r.pos.get(k).y), k);
  assert.equal(r.points.size, 3);
});

test("big graphs take the layered engine, small ones dagre; both place every node without overlaps", () => {
  const trace = loopTrace(700);
  const graph = buildGraph(trace);
  const tl = buildTimeline(trace, graph);
  const keys = [...graph.nodes.keys()];
  const fast = layoutGraph(graph, { hints: tl.hints });
  const slow = layoutGraph(graph, { hints: tl.hints, engine: "dagre" });
  for (const lay of [fast, slow]) {
    keys.forEach((k) => assert.ok(Number.isFinite(lay.nodes.get(k)?.x), k));
    assert.equal(overlapsIn(lay, keys), 0);
    for (const e of graph.edges.values()) {
      const le = lay.edges.get(e.key);
      if (le) assert.ok(le.points.length >= 2 || le.stub, e.key);
    }
  }
  // the same rows either way: the engine only changes how each row is drawn
  assert.equal(fast.chunks, slow.chunks);
  assert.equal(fast.stubs.size, slow.stubs.size);
});

test("layered layout is deterministic (what the page shows depends on the trace only)", () => {
  const { graph, tl } = model("affine-mm2");
  const a = layoutGraph(graph, { hints: tl.hints, engine: "layered" });
  const b = layoutGraph(graph, { hints: tl.hints, engine: "layered" });
  assert.deepEqual([...a.nodes.entries()], [...b.nodes.entries()]);
  assert.equal(overlapsIn(a, [...graph.nodes.keys()].filter((k) => a.nodes.get(k).owner === k)), 0);
});
