// Where the chain-rule card goes: beside the active node, off its inputs and outputs, over as few other nodes as
// possible; when the pane has no such spot the card docks at a side and the graph pans to make room.
// Pure geometry on screen rectangles {x0, y0, x1, y1} (no DOM), so node tests can check it.

export const GAP = 14; // px between the active node and its card
const M = 4; // px between the card and the pane's edges
const CLEAR = 6; // px the card keeps off the node and its neighbours
const IN_VIEW = 14; // px from the pane's edges (and the toolbar) a node keeps to count as in view (view/camera.js shows())

export const overlaps = (a, b, m = 0) => a.x0 < b.x1 + m && b.x0 < a.x1 + m && a.y0 < b.y1 + m && b.y0 < a.y1 + m;
const area = (a, b) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
const union = (rs) => ({ x0: Math.min(...rs.map((r) => r.x0)), y0: Math.min(...rs.map((r) => r.y0)), x1: Math.max(...rs.map((r) => r.x1)), y1: Math.max(...rs.map((r) => r.y1)) });
// How far [a0, a1] must move to lie inside [f0, f1] (it fits).
const shift = (a0, a1, f0, f1) => (a0 < f0 ? f0 - a0 : a1 > f1 ? f1 - a1 : 0);
// Along one axis: the cluster [c0, c1] into [f0, f1] when it fits (least move), else centred there keeping the node [a0, a1] inside.
function axis(c0, c1, a0, a1, f0, f1) {
  if (c1 - c0 <= f1 - f0) return shift(c0, c1, f0, f1);
  const d = (f0 + f1) / 2 - (c0 + c1) / 2;
  return Math.max(f0 - a0, Math.min(f1 - a1, d));
}

/**
 * `pane` {W, H, top}: the card's room (top: below the graph toolbar); `card` {w, h}; `active`: the active node's
 * rectangle; `near`: its inputs' and outputs'; `others`: the other nodes in view.
 * Returns {left, top, dx, dy, how}: the card's corner, and how far to pan the graph first (0 unless docked).
 * how: "beside" (no pan), "dock" (pan; off the neighbours too), "dock-node" (pan; off the node only: the neighbours
 * do not fit beside the card), "corner" (no room even for the node alone: it covers what it must).
 */
export function placeCard(pane, card, active, near = [], others = []) {
  const { W, H, top: T } = pane, { w, h } = card;
  const cx = (active.x0 + active.x1) / 2, cy = (active.y0 + active.y1) / 2;
  const clampX = (x) => Math.max(M, Math.min(W - w - M, x));
  const clampY = (y) => Math.max(T, Math.min(H - h - M, y));
  const keep = [active, ...near];
  const spots = [ // beside the node first, then the pane's corners and sides
    [active.x1 + GAP, clampY(cy - h / 2)], [active.x0 - GAP - w, clampY(cy - h / 2)],
    [clampX(cx - w / 2), active.y1 + GAP], [clampX(cx - w / 2), active.y0 - GAP - h],
    [W - w - M, T], [M, T], [W - w - M, H - h - M], [M, H - h - M],
    [clampX(cx - w / 2), T], [clampX(cx - w / 2), H - h - M], [M, clampY(cy - h / 2)], [W - w - M, clampY(cy - h / 2)],
  ];
  let best = null;
  for (const [x, y] of spots) {
    if (x < M - 0.5 || y < T - 0.5 || x + w > W - M + 0.5 || y + h > H - M + 0.5) continue;
    const r = { x0: x, y0: y, x1: x + w, y1: y + h };
    if (keep.some((k) => overlaps(r, k, CLEAR))) continue;
    // Covering another node costs its area; being far from the node costs a little (the eye jumps less).
    const hides = others.reduce((s, o) => s + area(r, o), 0), cost = hides + 2 * Math.hypot(x + w / 2 - cx, y + h / 2 - cy);
    if (!best || cost < best.cost - 0.5) best = { left: x, top: y, dx: 0, dy: 0, cost, hides, how: "beside" };
  }
  if (best && !best.hides) return best;
  // No such spot at this pan (or each one hides another node): dock the card at a side and pan the graph: the node and
  // its neighbours into the rest of the pane when they fit there (least pan), else centred on it with the node whole;
  // least neighbour covered wins, then least other node. A beside spot stays unless a dock hides nothing at all.
  const sides = {
    right: { x0: M, y0: T, x1: W - w - M - GAP, y1: H - M },
    left: { x0: M + w + GAP, y0: T, x1: W - M, y1: H - M },
    bottom: { x0: M, y0: T, x1: W - M, y1: H - h - M - GAP },
    top: { x0: M, y0: T + h + GAP, x1: W - M, y1: H - M },
  };
  const c = union(keep);
  let pick = null;
  for (const [side, f] of Object.entries(sides)) {
    if (active.x1 - active.x0 > f.x1 - f.x0 || active.y1 - active.y0 > f.y1 - f.y0) continue; // the node itself must fit
    const dx = axis(c.x0, c.x1, active.x0, active.x1, f.x0, f.x1), dy = axis(c.y0, c.y1, active.y0, active.y1, f.y0, f.y1);
    const moved = near.map((n) => ({ x0: n.x0 + dx, y0: n.y0 + dy, x1: n.x1 + dx, y1: n.y1 + dy }));
    const across = side === "right" || side === "left"
      ? [clampY(cy + dy - h / 2), T, H - h - M].map((top) => [side === "right" ? W - w - M : M, top])
      : [clampX(cx + dx - w / 2), M, W - w - M].map((left) => [left, side === "bottom" ? H - h - M : T]);
    for (const [left, top] of across) {
      const r = { x0: left, y0: top, x1: left + w, y1: top + h };
      if (overlaps(r, { x0: active.x0 + dx, y0: active.y0 + dy, x1: active.x1 + dx, y1: active.y1 + dy }, CLEAR)) continue;
      const covered = moved.reduce((sum, n) => sum + area(r, n), 0);
      const hides = others.reduce((sum, o) => sum + area(r, { x0: o.x0 + dx, y0: o.y0 + dy, x1: o.x1 + dx, y1: o.y1 + dy }), 0);
      const cost = 10 * covered + hides + Math.abs(dx) + Math.abs(dy);
      if (!pick || cost < pick.cost - 0.5) pick = { left, top, dx, dy, cost, hides, how: covered ? "dock-node" : "dock" };
    }
  }
  if (best) return pick && pick.how === "dock" && !pick.hides ? pick : best;
  if (pick) return pick;
  return { left: cx > W / 2 ? M : W - w - M, top: cy > H / 2 ? T : H - h - M, dx: 0, dy: 0, how: "corner" };
}

/** Better placements first: beside the node, docked off its neighbours, docked off the node only, a corner. */
export const RANK = { beside: 0, dock: 1, "dock-node": 2, corner: 3 };

/** The width of the node and its neighbours together (a narrower card may then fit beside them). */
export const spanOf = (rs) => { const u = union(rs); return { w: u.x1 - u.x0, h: u.y1 - u.y0 }; };

/**
 * A spot at a corner of the pane where the card covers no box at all, with the graph panned as little as it takes:
 * `boxes` are every drawn box (the active one too), `active` must stay whole beside the card. Returns
 * {left, top, dx, dy, how: "clear", hides: 0} or null when no pan clears the card (a graph too big for the rest).
 */
export function clearDock(pane, card, active, boxes) {
  const { W, H, top: T } = pane, { w, h } = card;
  if (w + 2 * M > W || h + T + M > H) return null;
  const corners = [[W - w - M, T], [M, T], [W - w - M, H - h - M], [M, H - h - M]];
  let best = null;
  for (const [left, top] of corners) {
    const r = { x0: left - CLEAR, y0: top - CLEAR, x1: left + w + CLEAR, y1: top + h + CLEAR };
    // the active node whole in the pane, off the card
    const okActive = (dx, dy) => { // with the margin the camera wants of a node in view (so the next step does not pan back)
      const a = { x0: active.x0 + dx, x1: active.x1 + dx, y0: active.y0 + dy, y1: active.y1 + dy };
      const inPane = a.x0 >= IN_VIEW && a.x1 <= W - IN_VIEW && a.y0 >= T + IN_VIEW && a.y1 <= H - IN_VIEW;
      return inPane && !overlaps(a, r);
    };
    const dxs = new Set([0]), dys = new Set([0]);
    for (const b of boxes) { dxs.add(r.x0 - b.x1); dxs.add(r.x1 - b.x0); dys.add(r.y0 - b.y1); dys.add(r.y1 - b.y0); }
    const near = (s) => [...s].sort((p, q) => Math.abs(p) - Math.abs(q)).slice(0, 24);
    const sx = near(dxs), sy = near(dys);
    for (const dx of sx) {
      for (const dy of sy) {
        const cost = Math.abs(dx) + Math.abs(dy);
        if (best && cost >= best.cost) continue;
        if (!okActive(dx, dy)) continue;
        if (boxes.some((b) => overlaps({ x0: b.x0 + dx, y0: b.y0 + dy, x1: b.x1 + dx, y1: b.y1 + dy }, r))) continue;
        best = { left, top, dx, dy, cost, hides: 0, how: "clear" };
      }
    }
  }
  return best;
}
