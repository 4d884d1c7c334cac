import { test } from "node:test";
import assert from "node:assert/strict";
import { fixture } from "./helpers.js";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline } from "../static/js/model/timeline.js";
import { layoutGraph } from "../static/js/layout/layout.js";
import { closedByDefault } from "../static/js/layout/levels.js";

const overlap = (a, b) => Math.abs(a.x - b.x) * 2 < a.width + b.width - 1 && Math.abs(a.y - b.y) * 2 < a.height + b.height - 1;
const inside = (p, b) => p.x - p.width / 2 >= b.x && p.x + p.width / 2 <= b.x + b.width && p.y - p.height / 2 >= b.y && p.y + p.height / 2 <= b.y + b.height;

// Adam + clip_grad_norm_ on three blocks: 53 optimizer-state and clipping tensors in the opened bookkeeping block.
function opened() {
  const { trace } = fixture("module-blocks");
  const g = buildGraph(trace, { bookkeeping: true });
  const collapsed = closedByDefault(g);
  collapsed.delete("g:book");
  return { g, collapsed, hints: buildTimeline(trace, g).hints };
}

test("an opened bookkeeping block: every member placed inside its one box, no two boxes overlapping, edges from outside run to the members", () => {
  const { g, collapsed, hints } = opened();
  const members = [...g.nodes.values()].filter((d) => d.group === "g:book").map((d) => d.key);
  assert.ok(members.length >= 12, `a big block (${members.length} tensors)`);
  for (const engine of ["auto", "layered"]) for (const rankdir of ["LR", "TB"]) {
    const lay = layoutGraph(g, { collapsed, hints, engine, rankdir });
    const at = `${engine} ${rankdir}`;
    const boxes = lay.groups.get("g:book");
    assert.equal(boxes?.length, 1, at);
    assert.equal(boxes[0].collapsed, false, at);
    for (const k of members) assert.ok(inside(lay.nodes.get(k), boxes[0]), `${at}: ${k} in the block's box`);
    const drawn = [...lay.nodes].filter(([k, p]) => p.owner === k).map(([k, p]) => ({ k, ...p }));
    for (let i = 0; i < drawn.length; i++) for (let j = i + 1; j < drawn.length; j++) {
      assert.ok(!overlap(drawn[i], drawn[j]), `${at}: ${drawn[i].k} and ${drawn[j].k} overlap`);
    }
    for (const d of drawn) if (!members.includes(d.k)) assert.ok(!overlap(d, { x: boxes[0].x + boxes[0].width / 2, y: boxes[0].y + boxes[0].height / 2, width: boxes[0].width, height: boxes[0].height }), `${at}: ${d.k} outside the block`);
    for (const e of g.edges.values()) {
      if (lay.nodes.get(e.source).owner === lay.nodes.get(e.target).owner) continue; // both inside one closed block
      const l = lay.edges.get(e.key);
      assert.ok(l?.points?.length >= 2, `${at}: ${e.key} routed`);
      const t = lay.nodes.get(e.target);
      if (members.includes(e.target) && !members.includes(e.source) && !l.stub) assert.deepEqual(l.points.at(-1), { x: t.x, y: t.y }, `${at}: ${e.key} ends at its member`);
    }
  }
});

test("the members no edge links lie in a grid in program order", () => {
  const { g, collapsed, hints } = opened();
  const linked = new Set();
  for (const e of g.edges.values()) if (g.nodes.get(e.source)?.group === "g:book" && g.nodes.get(e.target)?.group === "g:book") { linked.add(e.source); linked.add(e.target); }
  const loose = [...g.nodes.values()].filter((d) => d.group === "g:book" && !linked.has(d.key)).sort((a, b) => (a.seq - b.seq) || (a.key < b.key ? -1 : 1));
  assert.ok(loose.length > 4, "the optimizer state has unlinked tensors");
  const lay = layoutGraph(g, { collapsed, hints });
  const ps = loose.map((d) => lay.nodes.get(d.key));
  for (let i = 1; i < ps.length; i++) { // reading order: along a row, then the next row
    const a = ps[i - 1], b = ps[i];
    assert.ok(b.y > a.y + 1 || (Math.abs(b.y - a.y) < 1 && b.x > a.x), `${loose[i].key} after ${loose[i - 1].key}`);
  }
  const rows = new Set(ps.map((p) => Math.round(p.y)));
  assert.ok(rows.size > 1 && rows.size < ps.length, "several members to a row, several rows");
});
