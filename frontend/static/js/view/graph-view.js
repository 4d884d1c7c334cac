// The graph renderer: draws a laid-out drawable graph once, then restyles it for any timeline state.
import * as d3 from "../../vendor/d3.js";
import { drawNode, drawShell, updateTensor } from "./nodes.js";
import { Item, NODE_STATES, EDGE_STATES, stateClasses, memberKeys, nearest } from "./items.js";
import { drawEdge, pulseStep, defineMarkers } from "./edges.js";
import { activity } from "./activity.js";
import { markProblems } from "./problems.js";
import { createOverview } from "./overview.js";
import { createCamera, TOP } from "./camera.js";
import { drawGroup, groupLab, addLodName } from "./groups.js";
import { lodText, stubText } from "../layout/sizes.js";
import { createSemanticZoom } from "./semantic.js";

const LOD = 0.42; // below this scale text is unreadable, so it is hidden
const VIRTUAL_ABOVE = 500; // drawn nodes past which off-screen elements leave the DOM
const PREFETCH = 700; // px beyond the view whose elements idle time makes in advance (detached), so a step's pan only attaches them

// `onMake(el, d)`: a node's <g> was just made (big graphs make them as they come into view).
// `onZoomIn(groupKey)`: the user zoomed in until closed block `groupKey` fills most of the pane (semantic zoom).
export function createGraphView(root, { onSelect = () => {}, onToggleGroup = () => {}, onZoom = () => {}, onMake = () => {}, onZoomIn = () => {} } = {}) {
  const svg = d3.select(root).insert("svg", ":first-child").attr("class", "graph-svg").attr("aria-label", "Autograd graph")
    .attr("role", "group").attr("tabindex", "-1"); // focusable from script: after Run the keys step the timeline
  defineMarkers(svg);
  const viewport = svg.append("g").attr("class", "viewport");
  const layer = {};
  for (const name of ["groups", "edges", "stubs", "nodes", "pulses", "teach"]) layer[name] = viewport.append("g").attr("class", name);
  let transform = d3.zoomIdentity;
  // The pane's size, read before a new model's elements enter the DOM and kept until the next frame: reading
  // it afterwards would make Chromium lay out thousands of new SVG elements once here and again for the frame.
  let pinned = null;
  // The pane's size as last seen by a ResizeObserver: reading clientWidth on each zoom tick of a step's pan would
  // force a layout of everything the step just changed. fit() and a window resize read it afresh.
  let size = null;
  const measure = () => (size = { w: root.clientWidth, h: root.clientHeight });
  const dims = () => pinned ?? size ?? measure();
  const win = root.ownerDocument.defaultView;
  if (win.ResizeObserver) new win.ResizeObserver(() => { size = null; }).observe(root);
  win.addEventListener("resize", () => { size = null; });
  let lodLow = false;
  // Big graphs below a readable scale are drawn on the overview canvas; their SVG elements leave the DOM.
  let canvasOn = false, whole = false;
  const overview = createOverview(root, svg.node(), () => canvasOn && graph
    ? { transform, ...wh(), nodes: els.values(), edges: edgeEls.values(), stubs: stubEls, groups: groupEls } : null);
  const wh = () => { const { w, h } = dims(); return { w, h }; };
  const semantic = createSemanticZoom(svg);
  const labelled = function* () { yield* els.values(); yield* groupEls; yield* stubEls; };
  const cam = createCamera(svg, viewport, dims, () => {
    transform = cam.transform;
    if (!lazy) semantic.apply(transform.k, labelled);
    const low = transform.k < LOD;
    if (low !== lodLow) { lodLow = low; svg.classed("lod-low", low); } // re-setting a class restyles the whole tree
    canvasOn = lazy && !whole && low;
    cull(); // before the frame renders: only what is in view gets laid out
    if (!low) fillIn();
    prefetchSoon();
    overview.schedule();
    onZoom(transform);
  }, () => {
    const big = bigBlock();
    if (big) onZoomIn(big);
  });

  // The closed module block under the pane's centre, when it covers over half the pane's width or height.
  function bigBlock() {
    const { w, h } = dims(), [cx, cy] = transform.invert([w / 2, TOP + (h - TOP) / 2]);
    for (const it of groupEls) {
      const [a, b, c, d] = it.box;
      if (!it.collapsed || cx < a || cx > c || cy < b || cy > d) continue;
      if ((c - a) * transform.k > 0.5 * w || (d - b) * transform.k > 0.5 * (h - TOP)) return it.gk;
    }
    return null;
  }

  let graph = null, lay = null, selected = null, lazy = false, lastState = null;
  let els = new Map(), edgeEls = new Map(), stubEls = [], groupEls = [];
  let looks = new Map();

  /** Draw a laid-out graph (replacing the last one). */
  function setModel(g, layout) {
    for (const _ of build(g, layout, false)); // eslint-disable-line no-unused-vars
  }

  /** The same in slices of about BATCH elements, awaiting `pause()` between them (no long task on big graphs). */
  async function setModelAsync(g, layout, pause) {
    for (const _ of build(g, layout, true)) await pause(); // eslint-disable-line no-unused-vars
  }

  const BATCH = 1500;
  function* build(g, layout, sliced) {
    const vp = viewport.node(), holder = vp.parentNode;
    pinned = { w: root.clientWidth, h: root.clientHeight };
    if (sliced) vp.remove(); // built off-document, so frames in between do not lay out half a graph
    graph = g; lay = layout; looks = new Map();
    for (const l of Object.values(layer)) l.selectAll("*").remove();
    // Big graphs: an element is made when it first comes into view (cull) or is asked for; the zoom after fit()
    // brings in what is in view. At the overview none is made: the canvas draws them all.
    lazy = g.nodes.size > VIRTUAL_ABOVE;
    canvasOn = false;
    const item = (fields, create, l) => {
      const it = new Item(fields, create, l.node(), !lazy);
      if (!lazy) it.parent.appendChild(it.el.node());
      return it;
    };
    let made = 0;
    groupEls = [];
    for (const [gk, boxes] of layout.groups) {
      for (const b of boxes) {
        groupEls.push(item({ gk, b, collapsed: b.collapsed, members: memberKeys(g, gk), box: [b.x, b.y, b.x + b.width, b.y + b.height],
          lab: b.collapsed ? groupLab(g.groups.get(gk), b) : undefined }, makeGroup, layer.groups));
      }
    }
    edgeEls = new Map();
    for (const e of g.edges.values()) {
      const le = layout.edges.get(e.key);
      if (!le?.points?.length) continue;
      const xs = le.points.map((q) => q.x), ys = le.points.map((q) => q.y);
      edgeEls.set(e.key, item({ e, le, pts: le.points, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] }, makeEdge, layer.edges));
      if (sliced && ++made % (lazy ? 4 * BATCH : BATCH) === 0) yield;
    }
    stubEls = [];
    for (const [sk, s] of layout.stubs) {
      stubEls.push(item({ sk, s, lab: { text: stubText(s.label), w: s.width, h: s.height }, box: [s.x - s.width / 2, s.y - s.height / 2, s.x + s.width / 2, s.y + s.height / 2] }, makeStub, layer.stubs));
    }
    els = new Map();
    // Big graphs: a node's inner parts (texts, value rows, glyphs) are drawn once it is in view at a readable
    // scale; until then it is its box only (a tenth of the SVG elements for Chromium to lay out).
    lastState = null;
    for (const d of g.nodes.values()) {
      const p = layout.nodes.get(d.key);
      if (!p) continue;
      const folded = p.owner !== d.key;
      const it = item({ d, p, folded, drawn: !lazy, lab: lazy || folded ? undefined : { text: lodText(d), w: p.width, h: p.height }, box: [p.x - p.width / 2, p.y - p.height / 2, p.x + p.width / 2, p.y + p.height / 2] }, makeNode, layer.nodes);
      if (folded && lazy) it.parent.appendChild(it.el.node()); // in the DOM, hidden, as in small graphs
      els.set(d.key, it);
      if (sliced && ++made % (lazy ? 4 * BATCH : BATCH) === 0) yield;
    }
    svg.on("click", (ev) => onSelect(canvasOn ? hit(ev) : null));
    if (sliced) { pinned = { w: root.clientWidth, h: root.clientHeight }; holder.appendChild(vp); }
    requestAnimationFrame(() => { pinned = null; });
  }

  function makeGroup(it) {
    const el = drawGroup(graph.groups.get(it.gk), it.b, () => onToggleGroup(it.gk));
    if (it.fut) el.classed("future", true);
    if (it.flags) el.classed("active", !!(it.flags & 2)).classed("touched", !!(it.flags & 4));
    return el;
  }

  function makeEdge(it) {
    const el = d3.create("svg:g");
    drawEdge(el, it.e, it.le);
    if (it.flags !== undefined) applyEdgeFlags(el, it.flags);
    return el;
  }

  function makeStub(it) {
    const { sk, s } = it;
    const el = d3.create("svg:g").attr("class", `stub${it.fut ? " future" : ""}`).attr("data-ref-key", s.source).attr("data-stub", sk)
      .attr("transform", `translate(${s.x - s.width / 2},${s.y - s.height / 2})`);
    el.append("title").text(`Same tensor as ${s.label}: click to go there`);
    el.append("rect").attr("width", s.width).attr("height", s.height).attr("rx", s.height / 2);
    el.append("text").attr("x", 8).attr("y", 15).text(`↪ ${s.label}`);
    addLodName(el, it.lab.text, s.width, s.height);
    el.on("click", (ev) => { ev.stopPropagation(); focus(s.source, 500); onSelect(s.source); });
    return el;
  }

  function makeNode(it) {
    const { d, p } = it;
    const el = d3.create("svg:g");
    if (lazy) drawShell(el, d, p);
    else { drawNode(el, d, p, d.type === "tensor" ? graph.gradChip.get(d.id) : null); addLodName(el, it.lab?.text ?? lodText(d), p.width, p.height); }
    if (it.folded) el.classed("folded", true).attr("display", "none");
    if (it.flags !== undefined) { const n = el.node(); n.setAttribute("class", n.getAttribute("class") + stateClasses(it.flags, NODE_STATES)); }
    el.on("click", (ev) => { ev.stopPropagation(); onSelect(d.key); });
    onMake(el.node(), d);
    return el;
  }

  function applyEdgeFlags(el, flags) {
    const n = el.node();
    n.setAttribute("class", n.getAttribute("class") + stateClasses(flags, EDGE_STATES));
    if (flags & 2) el.select("path").attr("marker-end", "url(#gt-arrow-flow)");
  }

  /** Draw the full node, once, and show it as of the last state. */
  function draw(item) {
    if (item.drawn) return;
    item.drawn = true;
    const { el, d, p } = item;
    const cls = el.attr("class");
    el.selectAll("*").remove();
    drawNode(el, d, p, d.type === "tensor" ? graph.gradChip.get(d.id) : null);
    el.attr("class", cls); // keep the state classes (future, active, …) the shell already had
    looks.delete(d.key);
    if (lastState && d.type === "tensor" && lastState.visible(d.key)) paint(item, lastState);
  }

  // In view and readable: draw what is still a shell.
  function fillIn() {
    if (!lazy || lodLow) return;
    for (const item of els.values()) if (!item.drawn && !item.folded && (item.shown ?? true)) draw(item);
  }

  // Big graphs: in idle time, make and draw the elements near the view, detached; cull() attaches them when they come in.
  let idle = 0;
  function prefetchSoon() {
    if (!lazy || idle || !win.requestIdleCallback) return;
    idle = win.requestIdleCallback((deadline) => { idle = 0; prefetch(deadline); });
  }

  function prefetch(deadline) {
    if (!graph || !lazy || canvasOn || lodLow) return;
    const r = visibleRect(), m = PREFETCH / transform.k;
    const near = (it) => !it.folded && it.box[2] >= r.x0 - m && it.box[0] <= r.x1 + m && it.box[3] >= r.y0 - m && it.box[1] <= r.y1 + m;
    for (const it of els.values()) {
      if (it.drawn || !near(it)) continue;
      if (deadline.timeRemaining() < 3) return prefetchSoon();
      draw(it);
    }
    for (const it of edgeEls.values()) {
      if (it.made || !near(it)) continue;
      if (deadline.timeRemaining() < 3) return prefetchSoon();
      void it.el; // reading .el builds the edge's element (a lazy getter)
    }
  }

  function paint(item, state) {
    const { el, d, p } = item;
    const tf = state.flow?.tensorFlow.get(d.id);
    const look = { data: state.data(d.id), grad: state.grad(d.id), flow: tf?.sum ?? null, fan: tf?.parts.length ?? 0, hooked: !!tf?.hook };
    const prev = looks.get(d.key);
    if (!prev || prev.data !== look.data || prev.grad !== look.grad || prev.flow !== look.flow || prev.fan !== look.fan || prev.hooked !== look.hooked) {
      updateTensor(el, d, p, look);
      looks.set(d.key, look);
    }
  }

  /** Restyle everything for `state` (from stateAt); animate the step's flow when asked. */
  function update(state, { animate = false, duration = 600, follow = false, minScale = 0 } = {}) {
    if (!graph) return;
    layer.pulses.selectAll("*").interrupt().remove();
    lastState = state;
    const act = activity(graph, state);
    for (const item of els.values()) {
      const { d } = item;
      const vis = state.visible(d.key);
      const flags = (vis ? 0 : 1) | (act.active.has(d.key) ? 2 : 0) | (act.touched.has(d.key) ? 4 : 0)
        | (d.type === "op" && state.flow?.done.has(d.id) ? 8 : 0)
        | (d.type === "op" && state.flow?.pending.has(d.id) && !act.active.has(d.key) ? 16 : 0)
        | (selected === d.key ? 32 : 0);
      if (!item.made) { item.flags = flags; continue; } // made later with these classes
      const el = item.el;
      if (item.flags === undefined) { // a fresh element: one class write, not seven (thousands of them in big graphs)
        const n = el.node();
        n.setAttribute("class", n.getAttribute("class") + stateClasses(flags, NODE_STATES));
        item.flags = flags;
      } else if (flags !== item.flags || item.arriving) { // touch the DOM only where something changed (big graphs)
        el.classed("future", !vis).classed("active", !!(flags & 2)).classed("touched", !!(flags & 4))
          .classed("ran", !!(flags & 8)).classed("pending", !!(flags & 16)).classed("selected", !!(flags & 32)).classed("arriving", false);
        item.flags = flags;
        item.arriving = false;
      }
      if (d.type !== "tensor" || !vis || !item.drawn) continue;
      paint(item, state);
    }
    for (const item of edgeEls.values()) {
      const e = item.e;
      const flowed = !!state.flow?.edgeGrad.has(e.key);
      const flags = (!state.visible(e.source) || !state.visible(e.target) ? 1 : 0) | (flowed ? 2 : 0)
        | (act.sending.has(e.key) ? 4 : 0) | (act.feeding.has(e.key) ? 8 : 0);
      if (flags === item.flags) continue;
      if (item.flags === undefined || !item.made) {
        if (item.made) applyEdgeFlags(item.el, flags);
        item.flags = flags;
        continue;
      }
      item.el.classed("future", !!(flags & 1)).classed("flowed", flowed).classed("sending", !!(flags & 4)).classed("feeding", !!(flags & 8));
      if (((item.flags ?? 0) & 2) !== (flags & 2)) item.el.select("path").attr("marker-end", flowed ? "url(#gt-arrow-flow)" : "url(#gt-arrow)");
      item.flags = flags;
    }
    for (const item of stubEls) {
      const fut = !state.visible(item.s.source) || !state.visible(item.s.target);
      if (fut !== item.fut) { if (item.made) item.el.classed("future", fut); item.fut = fut; }
    }
    for (const item of groupEls) {
      const fut = !item.members.some((k) => state.visible(k));
      if (fut !== item.fut) { if (item.made) item.el.classed("future", fut); item.fut = fut; }
      if (!item.collapsed) continue;
      // A closed block lights up while the step runs inside it (a gradient entering, passing, leaving it).
      const flags = (item.members.some((k) => act.active.has(k)) ? 2 : 0) | (item.members.some((k) => act.touched.has(k)) ? 4 : 0);
      if (flags !== (item.flags ?? 0)) { if (item.made) item.el.classed("active", !!(flags & 2)).classed("touched", !!(flags & 4)); item.flags = flags; }
    }
    markProblems(layer.nodes, (key) => els.get(key) ?? null, graph, state);
    if (canvasOn) overview.schedule();
    if (animate) pulseStep(layer.pulses, els, edgeEls, state, act, duration);
    if (follow && act.focus) focusIfHidden(act.focus, Math.min(450, duration), minScale);
  }

  // Off-screen elements get display:none, so only what is in view is painted. In big graphs they are
  // taken out of the DOM instead: Chromium walks every SVG element, display:none or not, on each relayout.
  function cull() {
    if (!graph) return;
    const r = visibleRect();
    const m = (lazy ? 120 : 300) / transform.k; // big graphs: a small margin, every attached element costs each layout of the page
    const x0 = r.x0 - m, y0 = r.y0 - m, x1 = r.x1 + m, y1 = r.y1 + m;
    const detach = lazy;
    const apply = (item) => {
      if (item.folded) return;
      const [a, b, c, d] = item.box;
      const show = !canvasOn && c >= x0 && a <= x1 && d >= y0 && b <= y1;
      if (show === (item.shown ?? true)) return;
      item.shown = show;
      if (!detach) item.el.attr("display", show ? null : "none");
      else if (show) item.parent.appendChild(item.el.node());
      else if (item.made) item.el.node().remove();
    };
    els.forEach(apply);
    edgeEls.forEach(apply);
    stubEls.forEach(apply);
    groupEls.forEach(apply);
  }

  // Overview canvas: the node (else stub) under the pointer.
  const hit = (ev) => nearest(els.values(), stubEls, transform.invert(d3.pointer(ev, svg.node())), transform.k);

  const visibleRect = () => cam.visibleRect();

  // minScale: presenter mode asks for text readable from afar, so following zooms in to at least that.
  function focusIfHidden(key, duration, minScale = 0) {
    const p = els.get(key)?.p ?? null;
    if (!p) return;
    const readable = Math.max(LOD, minScale);
    if (cam.shows(p) && transform.k >= readable) return;
    focus(key, duration, transform.k >= readable ? transform.k : Math.max(0.85, minScale)); // pan only, unless too far out to read
  }

  /** Center a node, at scale k (default: zoom in to a readable scale if we are far out). */
  function focus(key, duration = 400, k = Math.max(transform.k, 0.8)) {
    const p = els.get(key)?.p;
    if (p) cam.centre(p, duration, k);
  }

  const fitScale = (l = lay) => cam.fitScale(l);

  function fit(duration = 0) {
    if (!lay) return;
    if (!pinned) measure();
    cam.fit(lay, duration);
  }

  return {
    setModel, setModelAsync, update, fit, focus, fitScale, panTo: (t, d) => cam.panTo(t, d),
    /** The transform the view is heading to (a follow or pan in flight), else the current one. */
    destination: () => cam.destination(),
    /** Fit group `gk`'s boxes (after it was opened by zooming in): the view stays on what the user zoomed into. */
    fitGroup(gk) {
      const bs = lay?.groups.get(gk);
      if (!bs?.length) return fit();
      const x0 = Math.min(...bs.map((b) => b.x)), y0 = Math.min(...bs.map((b) => b.y));
      const x1 = Math.max(...bs.map((b) => b.x + b.width)), y1 = Math.max(...bs.map((b) => b.y + b.height));
      if (!pinned) measure();
      cam.fitBox({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
    },
    /** The pane's size as fit() uses it (the toolbar strip left out). */
    pane: () => { const { w, h } = measure(); return { w: w || 800, h: Math.max(1, (h || 500) - TOP) }; },
    /** Draw every node in full (a picture of the whole graph, e.g. the SVG download). */
    complete: () => { whole = true; canvasOn = false; for (const item of els.values()) if (!item.folded) draw(item); },
    zoomBy: (f) => cam.zoomBy(f),
    /** Go back to a transform read earlier from `.transform` (e.g. after an export fitted the graph). */
    restore: (t) => { whole = false; cam.restore(t); },
    select(key) {
      const mark = (k, on) => { const it = els.get(k); if (!it) return; if (it.made) { it.el.classed("selected", on); it.flags = -1; } else if (it.flags !== undefined) it.flags = on ? it.flags | 32 : it.flags & ~32; };
      if (selected) mark(selected, false);
      selected = key;
      if (key) mark(key, true);
      overview.schedule();
    },
    get transform() { return transform; },
    svg: svg.node(),
    /** The <g> that teaching overlays (gradients waiting on edges) draw into, in graph coordinates. */
    teachLayer: () => layer.teach.node(),
    /** A drawn node's box in graph coordinates (null when not drawn). */
    nodeBox: (key) => els.get(key)?.p ?? null,
    edgePoints: (ek) => (lay?.edges.get(ek)?.points ?? null),
    /** Every node <g> made so far, in the DOM or culled out of it (big graphs make them as they come into view). */
    nodeElements: () => [...els.values()].filter((item) => item.made).map((item) => item.el.node()),
  };
}
