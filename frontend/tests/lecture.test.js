// Lecture screens, the parts that are pure: where the chain-rule card goes, and the name on a flowing grad row.
import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { placeCard, overlaps, clearDock } from "../static/js/view/card-place.js";
import { gradLabel, nodeSize } from "../static/js/layout/sizes.js";

const R = (x0, y0, w, h) => ({ x0, y0, x1: x0 + w, y1: y0 + h });
const at = (s, card) => R(s.left, s.top, card.w, card.h);

test("card: beside the node when there is room, off its inputs and outputs", () => {
  const pane = { W: 1000, H: 600, top: 48 }, card = { w: 300, h: 150 };
  const active = R(450, 250, 100, 40), above = R(440, 150, 120, 60), below = R(440, 330, 120, 60);
  const s = placeCard(pane, card, active, [above, below]);
  assert.equal(s.how, "beside");
  assert.deepEqual([s.dx, s.dy], [0, 0]);
  for (const r of [active, above, below]) assert.ok(!overlaps(at(s, card), r), JSON.stringify(s));
});

test("card: prefers a spot over no other node", () => {
  const pane = { W: 1000, H: 600, top: 48 }, card = { w: 300, h: 150 };
  const active = R(450, 250, 100, 40);
  const right = R(570, 200, 200, 150); // something drawn right of the node: the card goes left
  const s = placeCard(pane, card, active, [], [right]);
  assert.equal(s.how, "beside");
  assert.ok(!overlaps(at(s, card), right) && !overlaps(at(s, card), active), JSON.stringify(s));
});

test("card: no room beside at this pan: docks and pans the node and its neighbours clear of it", () => {
  // a 635×464 projector pane with a wide card and a column of three nodes in the middle (the case)
  const pane = { W: 635, H: 464, top: 48 }, card = { w: 300, h: 230 };
  const active = R(250, 190, 135, 46), above = R(245, 90, 145, 75), below = R(255, 270, 125, 75);
  const s = placeCard(pane, card, active, [above, below]);
  assert.equal(s.how, "dock");
  const moved = (r) => R(r.x0 + s.dx, r.y0 + s.dy, r.x1 - r.x0, r.y1 - r.y0);
  for (const r of [active, above, below].map(moved)) {
    assert.ok(!overlaps(at(s, card), r), JSON.stringify({ s, r }));
    assert.ok(r.x0 >= 0 && r.x1 <= pane.W && r.y0 >= pane.top && r.y1 <= pane.H, JSON.stringify(r)); // still in the pane
  }
  const cardBox = at(s, card);
  assert.ok(cardBox.x0 >= 0 && cardBox.x1 <= pane.W && cardBox.y0 >= pane.top && cardBox.y1 <= pane.H);
});

test("card: every spot beside the node hides another node: docks and pans so it hides none", () => {
  // the final frame of c = a * b in a projector pane: the card fits only below the leaf's AccumulateGrad, over leaf a
  const pane = { W: 635, H: 464, top: 48 }, card = { w: 560, h: 148 };
  const active = R(250, 268, 135, 32), b = R(230, 183, 178, 75), a = R(230, 320, 178, 77), mul = R(440, 280, 135, 46);
  const s = placeCard(pane, card, active, [b], [a, mul]);
  assert.equal(s.how, "dock");
  const moved = (r) => R(r.x0 + s.dx, r.y0 + s.dy, r.x1 - r.x0, r.y1 - r.y0);
  for (const r of [active, b, a, mul].map(moved)) assert.ok(!overlaps(at(s, card), r), JSON.stringify({ s, r }));
  // with room for the card beside the node over nothing, it stays beside (no pan)
  const t = placeCard({ W: 1400, H: 800, top: 48 }, card, active, [b], [a, mul]);
  assert.equal(t.how, "beside");
  assert.deepEqual([t.dx, t.dy], [0, 0]);
});

test("card: a pane too small for the whole card and node: the far corner, never a NaN", () => {
  const s = placeCard({ W: 300, H: 200, top: 10 }, { w: 290, h: 190 }, R(100, 80, 100, 40));
  assert.equal(s.how, "corner");
  assert.ok(Number.isFinite(s.left) && Number.isFinite(s.top));
});

test("update card: a corner clear of every box, the graph panned as little as it takes; null when none can be", () => {
  const pane = { W: 640, H: 460, top: 48 };
  // a column of boxes (a model's overview: input, a closed block, a reshape, the loss) down the middle of the pane
  const boxes = [[200, 60, 460, 140], [190, 170, 470, 250], [240, 280, 420, 330], [160, 360, 500, 440]].map(([x0, y0, x1, y1]) => ({ x0, y0, x1, y1 }));
  const active = boxes[1];
  const card = { w: 160, h: 400 };
  const spot = clearDock(pane, card, active, boxes);
  assert.ok(spot && spot.how === "clear" && spot.hides === 0);
  const r = { x0: spot.left, y0: spot.top, x1: spot.left + card.w, y1: spot.top + card.h };
  for (const b of boxes) assert.ok(!overlaps({ x0: b.x0 + spot.dx, y0: b.y0 + spot.dy, x1: b.x1 + spot.dx, y1: b.y1 + spot.dy }, r), JSON.stringify(b));
  const a = { x0: active.x0 + spot.dx, x1: active.x1 + spot.dx, y0: active.y0 + spot.dy, y1: active.y1 + spot.dy };
  assert.ok(a.x0 >= 0 && a.x1 <= pane.W && a.y0 >= pane.top && a.y1 <= pane.H, "the active block stays whole in the pane");
  assert.ok(Math.abs(spot.dx) + Math.abs(spot.dy) <= 200, `a small pan: ${spot.dx}, ${spot.dy}`);
  // boxes across the whole pane, rows above and below: a tall card has no clear corner; a short one has
  const wide = [[20, 60, 620, 120], [20, 300, 620, 360]].map(([x0, y0, x1, y1]) => ({ x0, y0, x1, y1 }));
  assert.equal(clearDock(pane, { w: 300, h: 380 }, wide[0], wide), null);
  const low = clearDock(pane, { w: 300, h: 120 }, wide[0], wide);
  assert.ok(low && !wide.some((b) => overlaps({ x0: b.x0 + low.dx, y0: b.y0 + low.dy, x1: b.x1 + low.dx, y1: b.y1 + low.dy },
    { x0: low.left, y0: low.top, x1: low.left + 300, y1: low.top + 120 })));
});

test("grad rows name the tensor the gradient flows into (never a bare dL/d)", () => {
  for (const name of ["basic-mul", "mlp-training-step", "autograd-grad"]) {
    let graph;
    try { ({ graph } = model(name)); } catch { continue; } // fixtures this branch lacks
    for (const d of graph.nodes.values()) {
      if (d.type !== "tensor") continue;
      const l = gradLabel(d);
      assert.match(l, /^dL\/d.+/, `${name} ${d.key}`);
      assert.ok(l.length <= 16, l);
      if (d.label && `dL/d${d.label}`.length <= 16 && !/[ (]/.test(d.label)) assert.equal(l, `dL/d${d.label}`);
    }
  }
  const { graph } = model("basic-mul");
  const c = [...graph.nodes.values()].find((d) => d.label === "c");
  assert.equal(gradLabel(c), "dL/dc");
  assert.ok(nodeSize(c).width >= 86);
});
