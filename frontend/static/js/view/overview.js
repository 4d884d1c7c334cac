// Big graphs zoomed out past readable text: the whole graph drawn on one <canvas> under the SVG (boxes and
// edges in their kind's and state's colours), so Chromium styles and paints a few elements instead of ~20,000.
import * as d3 from "../../vendor/d3.js";

const MIN_PX = 0.8; // hairlines stay visible however far out (an SVG stroke would thin to nothing)
const NODE_FLAGS = { future: 1, active: 2, touched: 4, ran: 8, pending: 16, selected: 32 };
const EDGE_FLAGS = { future: 1, flowed: 2, sending: 4, feeding: 8 };
const TENSOR = { leaf: ["--leaf-fill", "--leaf"], output: ["--out-fill", "--out"], constant: ["--const-fill", "--const"],
  grad: ["--gradt-fill", "--gradt"] };
const OP = { accumulate: ["--acc-fill", "--acc"], custom: ["--custom-fill", "--custom"] };
const VARS = ["--leaf", "--leaf-fill", "--mid", "--mid-fill", "--out", "--out-fill", "--const", "--const-fill", "--gradt",
  "--gradt-fill", "--op", "--op-fill", "--acc", "--acc-fill", "--custom", "--custom-fill", "--edge", "--edge-flow", "--group",
  "--group-fill", "--ghost", "--accent", "--grad", "--text", "--error", "--surface", "--surface-2"];

/** `scene()` → null (nothing to draw) or {transform, w, h, nodes, edges, stubs, groups} (items of graph-view). */
export function createOverview(root, before, scene) {
  const doc = root.ownerDocument;
  const canvas = doc.createElement("canvas");
  canvas.className = "overview";
  canvas.setAttribute("aria-hidden", "true");
  canvas.hidden = true;
  root.insertBefore(canvas, before);
  const ctx = canvas.getContext("2d");
  let frame = 0, shown = false;
  // Colours come from CSS variables: a theme or presenter switch (attributes on <html>) redraws.
  const Observer = doc.defaultView.MutationObserver;
  if (Observer) new Observer(() => { if (shown) schedule(); }).observe(doc.documentElement, { attributes: true, attributeFilter: ["data-theme", "class"] });

  /** Draw at the next frame (coalesced: one draw per frame whatever asked). */
  function schedule() {
    if (frame) return;
    frame = doc.defaultView.requestAnimationFrame(() => { frame = 0; draw(); });
  }

  function draw() {
    const s = scene();
    ctx.setTransform(1, 0, 0, 1, 0, 0); // clear in pixels, not in the last draw's graph coordinates
    if (!s) { if (shown) { ctx.clearRect(0, 0, canvas.width, canvas.height); shown = false; canvas.hidden = true; } return; }
    const dpr = doc.defaultView.devicePixelRatio || 1;
    const W = Math.round(s.w * dpr), H = Math.round(s.h * dpr);
    if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; } else ctx.clearRect(0, 0, W, H);
    canvas.hidden = false;
    shown = true;
    const { k, x, y } = s.transform;
    ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * x, dpr * y);
    const cs = doc.defaultView.getComputedStyle(root), c = {};
    for (const v of VARS) c[v] = cs.getPropertyValue(v).trim();
    const ghost = Number(c["--ghost"]) || 0.15, hair = MIN_PX / k;
    const [x0, y0] = [-x / k, -y / k], [x1, y1] = [(s.w - x) / k, (s.h - y) / k];
    const inView = ([a, b, cc, d]) => cc >= x0 && a <= x1 && d >= y0 && b <= y1;
    drawGroups(s.groups, c, ghost, hair, inView);
    drawEdges(s.edges, c, ghost, hair, inView);
    drawBoxes(s.stubs.map((it) => ({ box: it.box, flags: it.fut ? 1 : 0, fill: c["--surface"], stroke: c["--leaf"] })), hair, ghost, inView);
    const nodes = [], marks = [];
    for (const it of s.nodes) {
      if (it.folded || !inView(it.box)) continue;
      const [fill, stroke] = nodeColours(it, c);
      nodes.push({ box: it.box, flags: it.flags ?? 0, fill, stroke });
      if ((it.flags ?? 0) & NODE_FLAGS.active) marks.push(it.box);
    }
    drawBoxes(nodes, hair, ghost, inView);
    // The current step's node, ringed at a size that stays visible at any scale.
    ctx.lineWidth = 2.5 / k;
    ctx.strokeStyle = c["--accent"];
    for (const [a, b, cc, d] of marks) {
      ctx.beginPath();
      ctx.arc((a + cc) / 2, (b + d) / 2, Math.max((cc - a) / 2, 9 / k), 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  function drawGroups(groups, c, ghost, hair, inView) {
    for (const it of groups) {
      if (!inView(it.box)) continue;
      const [a, b, cc, d] = it.box;
      ctx.globalAlpha = it.fut ? ghost : 1;
      const collapsed = it.collapsed;
      ctx.fillStyle = collapsed ? c["--surface-2"] : c["--group-fill"];
      ctx.fillRect(a, b, cc - a, d - b);
      ctx.strokeStyle = c["--group"];
      ctx.lineWidth = Math.max(collapsed ? 2 : 1, hair);
      ctx.strokeRect(a, b, cc - a, d - b);
    }
    ctx.globalAlpha = 1;
  }

  // Edges in a few strokes: one path per look (kind × state), not one per edge.
  function drawEdges(edges, c, ghost, hair, inView) {
    const buckets = new Map();
    for (const it of edges) {
      if (!it.pts?.length || !inView(it.box)) continue;
      const f = it.flags ?? 0;
      const look = f & EDGE_FLAGS.sending ? "sending" : f & EDGE_FLAGS.feeding ? "feeding" : f & EDGE_FLAGS.flowed ? "flowed" : it.e.kind;
      const key = `${look}|${f & EDGE_FLAGS.future}`;
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key).push(it.pts);
    }
    const line = d3.line((p) => p.x, (p) => p.y).curve(d3.curveBasis).context(ctx);
    for (const [key, all] of buckets) {
      const [look, fut] = key.split("|");
      const [colour, width] = edgeLook(look, c);
      ctx.globalAlpha = fut === "1" ? ghost : 1;
      ctx.strokeStyle = colour;
      ctx.lineWidth = Math.max(width, hair);
      ctx.beginPath();
      for (const pts of all) line(pts);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  // Boxes grouped by look: a path per (fill, stroke, ghosted) filled and stroked once.
  function drawBoxes(items, hair, ghost, inView) {
    const buckets = new Map();
    for (const it of items) {
      if (!inView(it.box)) continue;
      const key = `${it.fill}|${it.stroke}|${it.flags & NODE_FLAGS.future}`;
      if (!buckets.has(key)) buckets.set(key, []);
      buckets.get(key).push(it.box);
    }
    for (const [key, boxes] of buckets) {
      const [fill, stroke, fut] = key.split("|");
      ctx.globalAlpha = fut === "1" ? ghost : 1;
      ctx.beginPath();
      for (const [a, b, cc, d] of boxes) ctx.rect(a, b, cc - a, d - b);
      // A few pixels wide: a box in its outline's colour (a border would cover it anyway, at twice the cost).
      if ((boxes[0][2] - boxes[0][0]) * MIN_PX / hair < 6) { ctx.fillStyle = stroke; ctx.fill(); continue; }
      ctx.fillStyle = fill;
      ctx.fill();
      ctx.strokeStyle = stroke;
      ctx.lineWidth = Math.max(1.5, hair);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }

  return { schedule, draw, canvas };
}

function nodeColours(it, c) {
  const { d } = it, f = it.flags ?? 0;
  const [fillVar, strokeVar] = d.type === "tensor" ? TENSOR[d.kind] ?? ["--mid-fill", "--mid"] : OP[d.kind] ?? ["--op-fill", "--op"];
  const cls = it.made ? it.el.node().classList : null; // problem marks live on made elements only
  const stroke = cls?.contains("problem") ? c["--error"] : cls?.contains("warned") ? "#e8590c"
    : f & NODE_FLAGS.selected ? c["--text"] : f & NODE_FLAGS.active ? c["--accent"] : f & (NODE_FLAGS.ran | NODE_FLAGS.pending) ? c["--grad"]
      : c[strokeVar];
  return [c[fillVar], stroke];
}

function edgeLook(look, c) {
  switch (look) {
    case "sending": return [c["--edge-flow"] || c["--grad"], 3.5];
    case "feeding": return [c["--accent"], 2.6];
    case "flowed": return [c["--edge-flow"] || c["--grad"], 2.4];
    case "accumulate": return [c["--acc"], 1.6];
    case "autograd": return [c["--op"], 1.6];
    case "untracked": case "plain": return [c["--const"], 1.6];
    default: return [c["--edge"], 1.6];
  }
}
