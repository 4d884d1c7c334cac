// The graph renderer: draws a laid-out drawable graph once, then restyles it for any timeline state.
import * as d3 from "../../vendor/d3.js";
import { drawNode, updateTensor } from "./nodes.js";
import { drawEdge, pulse, defineMarkers } from "./edges.js";
import { activity } from "./activity.js";

const LOD = 0.42; // below this scale text is unreadable, so it is hidden

export function createGraphView(root, { onSelect = () => {}, onToggleGroup = () => {} } = {}) {
  const svg = d3.select(root).insert("svg", ":first-child").attr("class", "graph-svg").attr("aria-label", "Autograd graph");
  defineMarkers(svg);
  const viewport = svg.append("g").attr("class", "viewport");
  const layer = {};
  for (const name of ["groups", "edges", "stubs", "nodes", "pulses"]) layer[name] = viewport.append("g").attr("class", name);
  let transform = d3.zoomIdentity;
  const zoom = d3.zoom().scaleExtent([0.02, 4]).on("zoom", (ev) => {
    transform = ev.transform;
    viewport.attr("transform", transform);
    svg.classed("lod-low", transform.k < LOD);
  });
  svg.call(zoom).on("dblclick.zoom", null);

  let graph = null, lay = null, selected = null;
  let els = new Map(), edgeEls = new Map(), stubEls = [], groupEls = [];
  let looks = new Map();

  function setModel(g, layout) {
    graph = g; lay = layout; looks = new Map();
    for (const l of Object.values(layer)) l.selectAll("*").remove();
    groupEls = [];
    for (const [gk, boxes] of layout.groups) {
      const grp = g.groups.get(gk);
      for (const b of boxes) {
        const el = layer.groups.append("g").attr("class", `group${b.collapsed ? " collapsed" : ""}`).attr("data-group", gk);
        el.append("rect").attr("x", b.x).attr("y", b.y).attr("width", b.width).attr("height", b.height).attr("rx", 10);
        const count = grp.members.length;
        el.append("text").attr("x", b.x + 10).attr("y", b.collapsed ? b.y + b.height / 2 + 4 : b.y + 14)
          .text(b.collapsed ? `▸ ${grp.path}  (${count} inside)` : `▾ ${grp.path}`)
          .on("click", (ev) => { ev.stopPropagation(); onToggleGroup(gk); });
        if (b.collapsed) el.on("click", () => onToggleGroup(gk));
        groupEls.push({ el, members: memberKeys(g, gk) });
      }
    }
    edgeEls = new Map();
    for (const e of g.edges.values()) {
      const le = layout.edges.get(e.key);
      if (!le?.points?.length) continue;
      const el = layer.edges.append("g");
      drawEdge(el, e, le);
      edgeEls.set(e.key, el);
    }
    stubEls = [];
    for (const [sk, s] of layout.stubs) {
      const el = layer.stubs.append("g").attr("class", "stub").attr("data-ref-key", s.source).attr("data-stub", sk)
        .attr("transform", `translate(${s.x - s.width / 2},${s.y - s.height / 2})`);
      el.append("title").text(`Same tensor as ${s.label}: click to go there`);
      el.append("rect").attr("width", s.width).attr("height", s.height).attr("rx", s.height / 2);
      el.append("text").attr("x", 8).attr("y", 15).text(`↪ ${s.label}`);
      el.on("click", (ev) => { ev.stopPropagation(); focus(s.source, 500); onSelect(s.source); });
      stubEls.push({ el, s });
    }
    els = new Map();
    for (const d of g.nodes.values()) {
      const p = layout.nodes.get(d.key);
      if (!p) continue;
      const el = layer.nodes.append("g");
      drawNode(el, d, p, d.type === "tensor" ? g.gradChip.get(d.id) : null);
      if (p.owner !== d.key) el.classed("folded", true).attr("display", "none");
      el.on("click", (ev) => { ev.stopPropagation(); onSelect(d.key); });
      els.set(d.key, { el, d, p });
    }
    svg.on("click", () => onSelect(null));
  }

  /** Restyle everything for `state` (from stateAt); animate the step's flow when asked. */
  function update(state, { animate = false, duration = 600, follow = false } = {}) {
    if (!graph) return;
    layer.pulses.selectAll("*").interrupt().remove();
    const act = activity(graph, state);
    for (const { el, d, p } of els.values()) {
      const vis = state.visible(d.key);
      el.classed("future", !vis).classed("active", act.active.has(d.key)).classed("touched", act.touched.has(d.key))
        .classed("ran", d.type === "op" && !!state.flow?.done.has(d.id))
        .classed("pending", d.type === "op" && !!state.flow?.pending.has(d.id) && !act.active.has(d.key))
        .classed("selected", selected === d.key).classed("arriving", false);
      if (d.type !== "tensor" || !vis) continue;
      const tf = state.flow?.tensorFlow.get(d.id);
      const look = { data: state.data(d.id), grad: state.grad(d.id), flow: tf?.sum ?? null, fan: tf?.parts.length ?? 0, hooked: act.hooked.has(d.id) };
      const prev = looks.get(d.key);
      if (!prev || prev.data !== look.data || prev.grad !== look.grad || prev.flow !== look.flow || prev.fan !== look.fan || prev.hooked !== look.hooked) {
        updateTensor(el, d, p, look);
        looks.set(d.key, look);
      }
    }
    for (const [ek, el] of edgeEls) {
      const e = graph.edges.get(ek);
      const fut = !state.visible(e.source) || !state.visible(e.target);
      const flowed = !!state.flow?.edgeGrad.has(ek);
      el.classed("future", fut).classed("flowed", flowed).classed("sending", act.sending.has(ek)).classed("feeding", act.feeding.has(ek));
      el.select("path").attr("marker-end", flowed ? "url(#gt-arrow-flow)" : "url(#gt-arrow)");
    }
    for (const { el, s } of stubEls) el.classed("future", !state.visible(s.source) || !state.visible(s.target));
    for (const { el, members } of groupEls) el.classed("future", !members.some((k) => state.visible(k)));
    if (animate) animateStep(state, act, duration);
    if (follow && act.focus) focusIfHidden(act.focus, Math.min(450, duration));
  }

  function animateStep(state, act, duration) {
    const legOf = (ek, reverse) => ({ path: edgeEls.get(ek)?.select("path").node() ?? null, reverse });
    if (state.flow && state.entry?.kind === "backward") {
      for (const s of state.flow.sent) {
        const via = s.route?.via ? els.get(`t:${s.route.via}`) : null;
        if (via) via.el.classed("arriving", true);
        pulse(layer.pulses, (s.route?.edges || []).map((ek) => legOf(ek, true)), {
          duration: duration * 0.8, label: s.values,
          onEnd: () => via?.el.classed("arriving", false).classed("updated", false).classed("updated", true),
        });
      }
    } else {
      for (const ek of act.feeding) pulse(layer.pulses, [legOf(ek, false)], { duration: duration * 0.6, cls: "fwd" });
    }
  }

  function visibleRect() {
    const w = root.clientWidth, h = root.clientHeight;
    const [x0, y0] = transform.invert([0, 0]);
    const [x1, y1] = transform.invert([w, h]);
    return { x0, y0, x1, y1 };
  }

  function focusIfHidden(key, duration) {
    const p = els.get(key)?.p ?? null;
    if (!p) return;
    const r = visibleRect();
    const m = 12 / transform.k;
    const inside = p.x - p.width / 2 > r.x0 + m && p.x + p.width / 2 < r.x1 - m && p.y - p.height / 2 > r.y0 + m && p.y + p.height / 2 < r.y1 - m;
    if (inside && transform.k >= LOD) return;
    focus(key, duration, transform.k >= LOD ? transform.k : 0.85); // pan only, unless too far out to read
  }

  /** Center a node, at scale k (default: zoom in to a readable scale if we are far out). */
  function focus(key, duration = 400, k = Math.max(transform.k, 0.8)) {
    const p = els.get(key)?.p;
    if (!p) return;
    const t = d3.zoomIdentity.translate(root.clientWidth / 2, root.clientHeight / 2).scale(k).translate(-p.x, -p.y);
    svg.transition("view").duration(duration).call(zoom.transform, t);
  }

  const TOP = 50; // room for the toolbar over the graph
  function fitScale(l = lay) {
    const w = root.clientWidth || 800, h = root.clientHeight || 500;
    return Math.max(0.02, Math.min(1.4, 0.97 * Math.min(w / (l.width || 1), (h - TOP) / (l.height || 1))));
  }

  function fit(duration = 0) {
    if (!lay) return;
    const w = root.clientWidth || 800, h = root.clientHeight || 500;
    const top = TOP;
    const k = fitScale();
    const t = d3.zoomIdentity.translate((w - lay.width * k) / 2, top + (h - top - lay.height * k) / 2).scale(k);
    (duration ? svg.transition("view").duration(duration) : svg).call(zoom.transform, t);
  }

  return {
    setModel, update, fit, focus, fitScale,
    zoomBy: (f) => svg.transition("view").duration(200).call(zoom.scaleBy, f),
    select(key) { selected = key; for (const { el, d } of els.values()) el.classed("selected", d.key === key); },
    get transform() { return transform; },
    svg: svg.node(),
  };
}

function memberKeys(g, gk) {
  const out = [...(g.groups.get(gk)?.members || [])];
  for (const [k, grp] of g.groups) if (grp.parent === gk) out.push(...memberKeys(g, k));
  return out;
}
