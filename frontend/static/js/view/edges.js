// Edge paths, their look per timeline state, and the dots that carry values along them.
import * as d3 from "../../vendor/d3.js";
import { fmtValues } from "../model/format.js";

const curve = d3.line((p) => p.x, (p) => p.y).curve(d3.curveBasis);

export function edgePathD(points) {
  return points && points.length ? curve(points) : "";
}

/** Create one edge's <g>: its path and, for untracked ops, the scissors label. */
export function drawEdge(g, e, lay) {
  g.attr("class", `edge ${e.kind}`).attr("data-edge", e.key);
  g.append("path").attr("d", edgePathD(lay?.points)).attr("marker-end", "url(#gt-arrow)");
  if (e.kind === "untracked" && lay?.points?.length) {
    const mid = lay.points[Math.floor(lay.points.length / 2)];
    g.append("text").attr("class", "cut").attr("x", mid.x).attr("y", mid.y - 4).attr("text-anchor", "middle").text("✂")
      .append("title").text(`${e.op ?? "op"}: not recorded by autograd`);
  }
}

/**
 * Move a dot (with a value label) along a sequence of edge paths.
 * `legs` = [{path: SVGPathElement, reverse: bool}], played one after another over `duration` ms.
 */
export function pulse(layer, legs, { duration, label, cls = "", onEnd = () => {} }) {
  const usable = legs.filter((l) => l.path && l.path.getTotalLength() > 0);
  if (!usable.length || duration < 60) { onEnd(); return; }
  const lengths = usable.map((l) => l.path.getTotalLength());
  const total = d3.sum(lengths);
  const g = layer.append("g").attr("class", `pulse-g ${cls}`);
  g.append("circle").attr("class", `pulse ${cls}`).attr("r", 6);
  if (label) {
    const lab = g.append("g").attr("class", "pulse-label").attr("transform", "translate(9,-22)");
    const text = lab.append("text").attr("x", 5).attr("y", 13).text(fmtValues(label, { maxItems: 4 }));
    const w = text.node().getComputedTextLength?.() || 60;
    lab.insert("rect", "text").attr("width", w + 10).attr("height", 18).attr("rx", 4);
  }
  const at = (t) => {
    let dist = t * total;
    for (let i = 0; i < usable.length; i++) {
      if (dist <= lengths[i] || i === usable.length - 1) {
        const d = Math.min(dist, lengths[i]);
        return usable[i].path.getPointAtLength(usable[i].reverse ? lengths[i] - d : d);
      }
      dist -= lengths[i];
    }
    return { x: 0, y: 0 };
  };
  const p0 = at(0);
  g.attr("transform", `translate(${p0.x},${p0.y})`);
  g.transition("pulse").duration(duration).ease(d3.easeCubicInOut)
    .attrTween("transform", () => (t) => { const p = at(t); return `translate(${p.x},${p.y})`; })
    .on("end interrupt", function () { d3.select(this).remove(); onEnd(); });
}

/** Arrowhead markers for edges (plain and gradient-coloured). */
/** Animate a step: backward, each gradient sent runs up its route's edges; forward, a dot runs along each edge that feeds the op. */
export function pulseStep(layer, els, edgeEls, state, act, duration) {
  const legOf = (ek, reverse) => ({ path: edgeEls.get(ek)?.el.select("path").node() ?? null, reverse });
  if (state.flow && state.entry?.kind === "backward") {
    for (const s of state.flow.sent) {
      const via = s.route?.via ? els.get(`t:${s.route.via}`) : null;
      if (via) { via.el.classed("arriving", true); via.arriving = true; }
      pulse(layer, (s.route?.edges || []).map((ek) => legOf(ek, true)), {
        duration: duration * 0.8, label: s.values,
        onEnd: () => via?.el.classed("arriving", false).classed("updated", false).classed("updated", true),
      });
    }
  } else {
    for (const ek of act.feeding) pulse(layer, [legOf(ek, false)], { duration: duration * 0.6, cls: "fwd" });
  }
}

export function defineMarkers(svg) {
  const defs = svg.append("defs");
  for (const [id, cls] of [["gt-arrow", "arrow"], ["gt-arrow-flow", "arrow flow"]]) {
    defs.append("marker").attr("id", id).attr("viewBox", "0 0 10 10").attr("refX", 9).attr("refY", 5)
      .attr("markerUnits", "userSpaceOnUse").attr("markerWidth", 9).attr("markerHeight", 9).attr("orient", "auto-start-reverse")
      .append("path").attr("class", cls).attr("d", "M0,0 L10,5 L0,10 z");
  }
}
