// The chain-rule card beside the active backward node, and the gradients that wait on their edges until consumed.
import { fmtValues } from "../model/format.js";
import { addValues } from "../model/values.js";
import { fanTerms, FAN_ALL } from "../teach/fan-terms.js";
import { fmtHyper } from "../teach/update-card.js";

const NUM = (v) => fmtValues(v, { maxItems: 16 });
const SHORT = (v) => fmtValues(v, { maxItems: 4 }); // on an edge: short, the tooltip has the rest
const GAP = 14; // px between the active node and its card
const SVGNS = "http://www.w3.org/2000/svg";

/** `root`: the graph pane (#graph); `view`: the graph view (nodeBox, transform, teachLayer, edgePoints). */
export function createTeach(root, view) {
  const doc = root.ownerDocument;
  const card = doc.createElement("aside");
  card.id = "chain-card";
  card.className = "chain-card";
  card.setAttribute("aria-label", "Chain rule at this node");
  card.hidden = true;
  root.appendChild(card);
  let current = null; // {card, key}
  let box = null; // pane and card sizes read by the last place(); panning reuses them without reading layout

  function render(state, model, { hidden = false, tl = null } = {}) {
    drawWaiting(state, tl, hidden);
    current = model && !hidden ? { model, key: model.key ?? `n:${model.node}` } : null;
    box = null;
    card.hidden = !current;
    if (!current) { card.replaceChildren(); return; }
    card.classList.toggle("update-card", !!model.update);
    card.setAttribute("aria-label", model.update ? "Parameter update" : "Chain rule at this node");
    (model.update ? fillUpdate : fill)(card, model);
  }

  // Beside the node (right, left, below or above: wherever it fits), never over it; clamped to the pane.
  // Reads layout: call it in the frame (requestAnimationFrame), not between DOM writes, or it forces a layout.
  function place() {
    if (!current || card.hidden) return;
    const p = view.nodeBox(current.key);
    const panel = root.querySelector("#panel");
    const W = panel && !panel.hidden && panel.offsetLeft > 200 ? panel.offsetLeft - 4 : root.clientWidth; // beside the details, not over them
    const H = root.clientHeight;
    // A frame too small for graph and card together (a 400×300 embed): the narration carries the formula alone.
    card.classList.toggle("too-small", W < 460 || H < 220);
    card.classList.toggle("docked", !p);
    box = { W, H, cw: card.offsetWidth, ch: card.offsetHeight };
    position();
  }

  /** Move the card with the graph (a zoom or pan) using the sizes the last place() read: no layout read. */
  function follow() {
    if (box && current && !card.hidden) position();
  }

  function position() {
    const p = view.nodeBox(current.key);
    const { W, H, cw, ch } = box;
    if (!p) { move(Math.max(4, W - cw - 8), 48); return; }
    const t = view.transform;
    const x0 = t.applyX(p.x - p.width / 2), x1 = t.applyX(p.x + p.width / 2);
    const y0 = t.applyY(p.y - p.height / 2), y1 = t.applyY(p.y + p.height / 2);
    const TOOLS = 48; // the graph toolbar's strip
    const clampY = (y) => Math.max(TOOLS, Math.min(H - ch - 4, y));
    const clampX = (x) => Math.max(4, Math.min(W - cw - 4, x));
    const options = [
      { ok: x1 + GAP + cw <= W - 4, left: x1 + GAP, top: clampY((y0 + y1) / 2 - ch / 2) },
      { ok: x0 - GAP - cw >= 4, left: x0 - GAP - cw, top: clampY((y0 + y1) / 2 - ch / 2) },
      { ok: y1 + GAP + ch <= H - 4, left: clampX((x0 + x1) / 2 - cw / 2), top: y1 + GAP },
      { ok: y0 - GAP - ch >= 4, left: clampX((x0 + x1) / 2 - cw / 2), top: y0 - GAP - ch },
    ];
    // Nothing fits whole: the corner farthest from the node (it may cover other nodes, not this one).
    const far = { left: (x0 + x1) / 2 > W / 2 ? 4 : W - cw - 4, top: (y0 + y1) / 2 > H / 2 ? 4 : H - ch - 4 };
    const at = options.find((o) => o.ok) ?? far;
    move(at.left, at.top);
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
      label.setAttribute("transform", `translate(${mid.x},${mid.y - 8})`);
      const rect = doc.createElementNS(SVGNS, "rect");
      const tx = doc.createElementNS(SVGNS, "text");
      tx.setAttribute("x", "5");
      tx.setAttribute("y", "-4");
      tx.textContent = text;
      label.append(rect, tx);
      g.appendChild(label);
      const wpx = text.length * 7.1; // 11.5 px monospace; measuring would force a layout per label
      rect.setAttribute("x", "0"); rect.setAttribute("y", "-17"); rect.setAttribute("rx", "4");
      rect.setAttribute("width", String(wpx + 10)); rect.setAttribute("height", "18");
    }
  }

  return { render, place, follow, element: card };
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
