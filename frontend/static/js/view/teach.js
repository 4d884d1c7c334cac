// The chain-rule card beside the active backward node, and the gradients that wait on their edges until consumed.
import { fmtValues } from "../model/format.js";
import { addValues } from "../model/values.js";
import { fanTerms, FAN_ALL } from "../teach/fan-terms.js";
import { fmtHyper } from "../teach/update-card.js";
import { placeCard, clearDock, RANK, spanOf, GAP } from "./card-place.js";

const NUM = (v) => fmtValues(v, { maxItems: 16 });
const SHORT = (v) => fmtValues(v, { maxItems: 4 }); // on an edge: short, the tooltip has the rest
const SVGNS = "http://www.w3.org/2000/svg";
const TOOLS = 48; // the graph toolbar's strip: the card stays under it
const OTHERS_MAX = 400; // nodes past which the card no longer weighs what it covers (a big graph's step stays cheap)
const CLEAR_MAX = 3000; // nodes past which an update card does not look for a corner clear of every box
const NARROW = 300; // px: an update card's narrower width when that clears the boxes
const SHORT_MIN = 110; // px: the shortest an update card gets (its head and the gradient row), scrolling the rest

/** `root`: the graph pane (#graph); `view`: the graph view (nodeBox, transform, destination, panTo, teachLayer, edgePoints). */
export function createTeach(root, view) {
  const doc = root.ownerDocument;
  const card = doc.createElement("aside");
  card.id = "chain-card";
  card.className = "chain-card";
  card.setAttribute("aria-label", "Chain rule at this node");
  card.hidden = true;
  root.appendChild(card);
  let current = null; // {model, key}
  let graph = null;
  let at = null; // where the last place() put the card: {how, ox, oy} beside the node (moves with it), or fixed {left, top}
  let userHidden = false; // the lecturer hid the card (its ×, Escape or the toolbar toggle): it stays hidden until shown
  const toggle = doc.createElement("button");
  Object.assign(toggle, { type: "button", id: "card-toggle", className: "btn toggle", textContent: "Card", title: "Show / hide the chain-rule card (Esc hides it)" });
  toggle.setAttribute("aria-label", "Chain-rule card");
  toggle.setAttribute("aria-pressed", "true");
  root.querySelector(".graph-tools")?.appendChild(toggle);
  toggle.addEventListener("click", () => setHidden(!userHidden));
  doc.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape" || card.hidden || ev.defaultPrevented || ev.target.closest?.("dialog, .cm-editor")) return;
    setHidden(true);
  });

  function setHidden(v) {
    userHidden = !!v;
    toggle.setAttribute("aria-pressed", String(!userHidden));
    card.hidden = !current || userHidden;
    if (!card.hidden) place();
  }

  function render(state, model, { hidden = false, tl = null } = {}) {
    drawWaiting(state, tl, hidden);
    graph = tl?.graph ?? null;
    current = model && !hidden ? { model, key: model.key ?? `n:${model.node}` } : null;
    at = null;
    card.hidden = !current || userHidden;
    if (!current) { card.replaceChildren(); return; }
    card.classList.toggle("update-card", !!model.update);
    card.setAttribute("aria-label", model.update ? "Parameter update" : "Chain rule at this node");
    (model.update ? fillUpdate : fill)(card, model);
    const close = el(doc, "button", "btn icon cc-close", "×");
    close.type = "button";
    close.title = "Hide the card (Esc); the Card button brings it back";
    close.setAttribute("aria-label", "Hide chain-rule card");
    close.addEventListener("click", () => setHidden(true));
    card.prepend(close);
  }

  const rectOf = (key, t) => {
    const p = view.nodeBox(key);
    return p && { x0: t.applyX(p.x - p.width / 2), x1: t.applyX(p.x + p.width / 2), y0: t.applyY(p.y - p.height / 2), y1: t.applyY(p.y + p.height / 2) };
  };

  // Beside the node, off its inputs and outputs; else docked at a side with the graph panned to make room.
  // Reads layout: call it in the frame (requestAnimationFrame), not between DOM writes, or it forces a layout.
  function place() {
    if (!current || card.hidden) return;
    const panel = root.querySelector("#panel");
    const W = panel && !panel.hidden && panel.offsetLeft > 200 ? panel.offsetLeft - 4 : root.clientWidth; // beside the details, not over them
    const H = root.clientHeight;
    // A frame too small for graph and card together (a 400×300 embed): the narration carries the formula alone.
    card.classList.toggle("too-small", W < 460 || H < 220);
    const t = view.destination(); // where a follow in flight is taking the nodes
    const active = rectOf(current.key, t);
    card.classList.toggle("docked", !active);
    card.classList.remove("compact");
    card.style.maxWidth = "";
    card.style.maxHeight = "";
    let w = card.offsetWidth, h = card.offsetHeight;
    if (!active) { at = { left: Math.max(4, W - w - 8), top: TOOLS }; move(at.left, at.top); return; }
    const near = [], others = [];
    const adj = neighbours(graph, current.key);
    for (const k of adj) { const r = rectOf(k, t); if (r) near.push(r); }
    if (graph && graph.nodes.size <= OTHERS_MAX) {
      for (const k of graph.nodes.keys()) {
        if (k === current.key || adj.has(k)) continue;
        const r = rectOf(k, t);
        if (r && r.x1 > 0 && r.x0 < W && r.y1 > 0 && r.y0 < H) others.push(r);
      }
    }
    const pane = { W, H, top: TOOLS };
    let spot = placeCard(pane, { w, h }, active, near, others);
    if (spot.how !== "beside" && spot.how !== "dock") { // a small pane: a narrower, taller card may fit beside them all
      const span = spanOf([active, ...near]);
      const narrow = Math.max(240, Math.min(W * 0.6, W - span.w - 2 * GAP - 12));
      if (narrow < w - 20) {
        card.style.maxWidth = `${Math.round(narrow)}px`;
        const alt = placeCard(pane, { w: card.offsetWidth, h: card.offsetHeight }, active, near, others);
        if (RANK[alt.how] < RANK[spot.how]) { spot = alt; w = card.offsetWidth; h = card.offsetHeight; } else card.style.maxWidth = "";
      }
    }
    if (spot.how !== "beside" && spot.how !== "dock") { // still over a neighbour: the card drops its help line and check marks
      card.classList.add("compact");
      const alt = placeCard(pane, { w: card.offsetWidth, h: card.offsetHeight }, active, near, others);
      if (RANK[alt.how] < RANK[spot.how]) { spot = alt; w = card.offsetWidth; h = card.offsetHeight; } else card.classList.remove("compact");
    }
    if (current.model.update && spot.hides !== 0) { // an update card hides boxes wherever it sits: a corner clear of all of them
      const clear = clearSpot(pane, t, active);
      if (clear) { spot = clear; w = card.offsetWidth; h = card.offsetHeight; }
    }
    card.dataset.place = spot.how;
    if (spot.dx || spot.dy) view.panTo(t.translate(spot.dx / t.k, spot.dy / t.k), 300);
    at = spot.how === "beside" ? { ox: spot.left - active.x0, oy: spot.top - active.y0, W, H, w, h } : { left: spot.left, top: spot.top };
    move(spot.left, spot.top);
  }

  // A corner where the card covers no drawn box, the graph panned to make room (the card as it is, then narrower and compact).
  function clearSpot(pane, t, active) {
    const seen = new Set(), boxes = [];
    if (graph && graph.nodes.size <= CLEAR_MAX) {
      for (const k of graph.nodes.keys()) {
        const p = view.nodeBox(k);
        if (!p || seen.has(p.owner ?? k)) continue; // nodes in a closed block share its box
        seen.add(p.owner ?? k);
        boxes.push(rectOf(k, t));
      }
    }
    if (!boxes.length) return null;
    // then shorter, scrolling inside (its numbers stay one scroll away): a band the graph leaves empty is often low
    const short = (f) => () => { card.style.maxHeight = `${Math.max(SHORT_MIN, Math.round((pane.H - pane.top) * f))}px`; };
    const tries = [() => {}, () => { card.style.maxWidth = `${NARROW}px`; }, () => card.classList.add("compact"), short(0.5), short(0.33)];
    for (const change of tries) {
      change();
      const spot = clearDock(pane, { w: card.offsetWidth, h: card.offsetHeight }, active, boxes);
      if (spot) return spot;
    }
    card.style.maxWidth = "";
    card.style.maxHeight = "";
    card.classList.remove("compact");
    return null;
  }

  /** Move the card with the graph (a zoom or pan) from what the last place() read: no layout read. */
  function follow() {
    if (!at || !current || card.hidden) return;
    if (at.ox === undefined) return; // docked: it stays where it is while the graph pans beside it
    const r = rectOf(current.key, view.transform);
    if (!r) return;
    move(Math.max(4, Math.min(at.W - at.w - 4, r.x0 + at.ox)), Math.max(TOOLS, Math.min(at.H - at.h - 4, r.y0 + at.oy)));
  }

  // A transform, not left/top: moving the card then needs no layout (a layout walks the whole graph's SVG).
  const move = (x, y) => { card.style.transform = `translate(${Math.round(x)}px,${Math.round(y)}px)`; };

  // Gradients sent earlier in this pass stay on their edge until the node they wait for has run.
  function drawWaiting(state, tl, hidden) {
    const g = view.teachLayer();
    while (g.firstChild) g.firstChild.remove();
    const e = state?.entry;
    if (!tl || !e || e.kind !== "backward") return;
    const flow = state.flow;
    if (!flow) return;
    const currentNode = flow.current?.node;
    // From the flow the model keeps (sum and parts per tensor, built step by step): no replay of the pass here.
    // Per tensor: O(1) until the gradient is known to wait (most have been consumed), so a step costs little at any size.
    const waiting = new Map(); // via tensor → {to, parts (first 3), count, sum, edge}
    for (const [via, tf] of flow.tensorFlow) {
      const first = tf.parts.find((p) => p.from != null);
      if (!first) continue;
      let route = tl.graph.routes.get(`${first.from}#${first.slot}`);
      if (!route?.edges?.length) continue;
      if (route.target == null || (flow.done.has(route.target) && route.target !== currentNode)) continue; // consumed
      const parts = tf.parts.filter((p) => p.from != null && !(hidden && p.from === currentNode)); // predicting: not the answer
      if (!parts.length) continue;
      if (parts[0] !== first) route = tl.graph.routes.get(`${parts[0].from}#${parts[0].slot}`);
      if (!route?.edges?.length) continue;
      const sum = parts.length === tf.parts.length ? tf.sum : parts.reduce((a, p) => addValues(a, p.values), null);
      waiting.set(via, { to: route.target, parts: parts.slice(0, 3).map((p) => p.values), count: parts.length, sum, edge: route.edges[route.edges.length - 1] });
    }
    const boxes = waiting.size ? nodeRects(tl.graph) : [];
    for (const [via, w] of waiting) {
      const pts = view.edgePoints(w.edge);
      if (!pts?.length) continue;
      const mid = pts[Math.floor(pts.length / 2)];
      const sum = w.sum;
      const fan = w.count > 1;
      const text = !fan ? SHORT(sum) : w.count <= 3 ? `${w.parts.map(SHORT).join(" + ")} = ${SHORT(sum)}` : `Σ of ${w.count} paths = ${SHORT(sum)}`;
      const label = doc.createElementNS(SVGNS, "g");
      label.setAttribute("class", `grad-wait${w.to === currentNode ? " consuming" : ""}${fan ? " fan" : ""}`);
      label.setAttribute("data-grad-wait", via);
      const wpx = text.length * 7.1; // 11.5 px monospace; measuring would force a layout per label
      const [lx, ly] = labelSpot(mid, wpx + 10, boxes);
      boxes.push({ x0: lx, y0: ly - 17, x1: lx + wpx + 10, y1: ly + 1 }); // the next label keeps off this one too
      label.setAttribute("transform", `translate(${lx},${ly})`);
      const rect = doc.createElementNS(SVGNS, "rect");
      const tx = doc.createElementNS(SVGNS, "text");
      tx.setAttribute("x", "5");
      tx.setAttribute("y", "-4");
      tx.textContent = text;
      label.append(rect, tx);
      g.appendChild(label);
      rect.setAttribute("x", "0"); rect.setAttribute("y", "-17"); rect.setAttribute("rx", "4");
      rect.setAttribute("width", String(wpx + 10)); rect.setAttribute("height", "18");
    }
  }

  // Every drawn node's box in graph coordinates (small graphs: a big one keeps its labels at the edge's middle).
  function nodeRects(graph) {
    if (!graph || graph.nodes.size > OTHERS_MAX) return [];
    const out = [];
    for (const k of graph.nodes.keys()) {
      const p = view.nodeBox(k);
      if (p) out.push({ x0: p.x - p.width / 2, y0: p.y - p.height / 2, x1: p.x + p.width / 2, y1: p.y + p.height / 2 });
    }
    return out;
  }

  return { render, place, follow, element: card, setHidden, get userHidden() { return userHidden; } };
}

// A waiting gradient's label (w px wide, 18 tall, drawn from its baseline corner): above the edge's middle, else
// beside or below it, wherever it covers no node (a label on b's grad row hides the very number it explains).
function labelSpot(mid, w, boxes) {
  const spots = [[mid.x, mid.y - 8], [mid.x + 8, mid.y + 9], [mid.x - w - 8, mid.y + 9], [mid.x, mid.y + 26], [mid.x - w / 2, mid.y - 8]];
  let best = null;
  for (const [x, y] of spots) {
    const r = { x0: x, y0: y - 17, x1: x + w, y1: y + 1 };
    const cover = boxes.reduce((s, b) => s + Math.max(0, Math.min(r.x1, b.x1) - Math.max(r.x0, b.x0)) * Math.max(0, Math.min(r.y1, b.y1) - Math.max(r.y0, b.y0)), 0);
    if (cover === 0) return [x, y];
    if (!best || cover < best.cover) best = { x, y, cover };
  }
  return [best.x, best.y];
}

// The nodes an edge joins to `key`: the active node's inputs and outputs (cached per graph).
const adjacency = new WeakMap();
function neighbours(graph, key) {
  if (!graph) return new Set();
  let adj = adjacency.get(graph);
  if (!adj) {
    adj = new Map();
    const add = (a, b) => { if (!adj.has(a)) adj.set(a, new Set()); adj.get(a).add(b); };
    for (const e of graph.edges.values()) { add(e.source, e.target); add(e.target, e.source); }
    adjacency.set(graph, adj);
  }
  return adj.get(key) ?? new Set();
}

function el(doc, tag, cls, text) {
  const e = doc.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// An optimizer's update of one parameter: its rule, each quantity with its numbers, the new value, and the check.
function fillUpdate(box, c) {
  const doc = box.ownerDocument;
  const head = el(doc, "div", "cc-head");
  head.append(el(doc, "strong", "cc-name", c.name), el(doc, "span", "cc-op", `  ${c.label ?? `${c.optimizer}.step()`}${c.count > 1 ? ` · ${c.position}/${c.count}` : ""}`));
  const hyper = Object.entries(c.hyper).filter(([k, v]) => typeof v === "number" && v !== 0 && !/^(step|differentiable)$/.test(k))
    .map(([k, v]) => `${k} = ${fmtHyper(v)}`).join(", ");
  const parts = [head];
  if (hyper) parts.push(el(doc, "div", "cc-help", hyper));
  parts.push(el(doc, "div", "cc-in", `grad = ${NUM(c.grad)}`));
  for (const r of c.rows) {
    const row = el(doc, "div", "cc-row");
    row.append(el(doc, "div", "cc-eq", r.formula), el(doc, "div", "cc-num", `= ${NUM(r.values)}`));
    parts.push(row);
  }
  const upd = el(doc, "div", "cc-row cc-update");
  upd.append(el(doc, "div", "cc-eq", c.rule ?? `${c.name} ← the optimizer's update`),
    el(doc, "div", "cc-num", `${c.name} = ${NUM(c.before)} → ${NUM(c.after)}`));
  if (c.agrees) upd.append(el(doc, "div", "cc-check", c.label ? "✓ one learning rate gives every element's new value" : "✓ the rule on the recorded values gives torch's new value"));
  parts.push(upd);
  box.replaceChildren(...parts);
}

function fill(box, c) {
  const doc = box.ownerDocument;
  const head = el(doc, "div", "cc-head");
  head.append(el(doc, "strong", "cc-name", c.name), el(doc, "span", "cc-op", c.op ? `  ${c.op}` : ""));
  const parts = [head];
  if (c.help) parts.push(el(doc, "div", "cc-help", c.help));
  const inc = el(doc, "div", "cc-in");
  const n = c.incoming.parts.length;
  const fan = n > 1 ? `${fanTerms(c.incoming.parts, n > FAN_ALL ? SHORT : NUM)} = ` : "";
  // A long fan-in: the first terms and the last; the details panel lists them all.
  const note = n > FAN_ALL ? `  (${n} paths summed; all in the details)` : "  (paths summed)";
  inc.textContent = `arrives: ${c.incoming.label} = ${fan}${NUM(c.incoming.values)}${fan ? note : ""}`;
  parts.push(inc);
  if (c.accumulate) {
    const a = c.accumulate;
    const line = a.before && a.stored
      ? `${a.name}.grad = ${NUM(a.before)} + ${NUM(c.incoming.values)} = ${NUM(a.after)}`
      : `${a.name}.grad ${a.stored ? "=" : "(returned, not stored) ="} ${NUM(a.after)}`;
    parts.push(el(doc, "div", "cc-row cc-acc", line));
  }
  for (const r of c.rows) {
    const row = el(doc, "div", "cc-row");
    row.dataset.slot = String(r.slot);
    // fail-closed: a formula is shown only where it was evaluated on the saved values and gave the engine's numbers
    if (r.local) row.append(el(doc, "div", "cc-eq cc-local", r.local));
    const num = el(doc, "div", "cc-num");
    num.textContent = r.send ? `${r.target} = ${r.send} = ${NUM(r.sent)}` : `${r.target} = ${NUM(r.sent)}`;
    row.append(num);
    if (r.defs?.length) row.append(el(doc, "div", "cc-defs", `where ${r.defs.join(", ")}`));
    if (r.status === "checked") row.append(el(doc, "div", "cc-check", "✓ formula on the saved values gives the same numbers"));
    else if (r.status === "withheld") row.append(el(doc, "div", "cc-check cc-withheld", "formula not shown: evaluated on the saved values it did not give autograd's numbers"));
    else if (r.send && c.kind !== "custom") row.append(el(doc, "div", "cc-check cc-unchecked", `formula not checked: ${r.why ?? "it is stated in words"}`));
    parts.push(row);
  }
  if (c.custom) {
    parts.push(el(doc, "div", "cc-custom", c.custom.line ? `your backward(), line ${c.custom.line}: ${c.custom.text}` : `backward() of ${c.custom.cls}`));
  }
  if (!c.rows.length && !c.accumulate) parts.push(el(doc, "div", "cc-help", "No input needs a gradient: nothing is sent."));
  box.replaceChildren(...parts);
}
