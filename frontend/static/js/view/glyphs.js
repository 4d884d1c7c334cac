// Small pictures of a tensor's numbers: heatmap (2-D+), sparkline (1-D), or a min–mean–max bar (stats only).
import * as d3 from "../../vendor/d3.js";
import { flat, toNum } from "../model/values.js";
import { fmtNum } from "../model/format.js";
import { GLYPH_W, GLYPH_H } from "../layout/sizes.js";

/** Draw Values `v` as mode ("heatmap" | "sparkline" | "stats") into the empty <g> `g`. */
export function drawGlyph(g, v, mode) {
  g.selectAll("*").remove();
  const labelX = GLYPH_W + (mode === "heatmap" ? 13 : 6);
  if (mode === "heatmap") heatmap(g, v);
  else if (mode === "sparkline") sparkline(g, v);
  else statsBar(g, v);
  g.append("text").attr("class", "val minmax").attr("x", labelX).attr("y", 10)
    .text(`max ${fmtNum(v.max, 3)}`);
  g.append("text").attr("class", "val minmax").attr("x", labelX).attr("y", GLYPH_H - 1)
    .text(`min ${fmtNum(v.min, 3)}`);
}

function heatmap(g, v) {
  const items = flat(v);
  const cols = v.shape[v.shape.length - 1] || 1;
  const rows = Math.max(1, Math.ceil(items.length / cols));
  const cw = GLYPH_W / cols, ch = GLYPH_H / rows;
  const m = d3.max(items, (x) => (Number.isFinite(x) ? Math.abs(x) : 0)) || 1;
  const color = d3.scaleDiverging([-m, 0, m], (t) => d3.interpolateRdBu(1 - t));
  g.append("rect").attr("class", "glyph-frame").attr("width", GLYPH_W).attr("height", GLYPH_H).attr("fill", "none");
  g.selectAll("rect.cell").data(items).join("rect").attr("class", "cell")
    .attr("x", (_, i) => (i % cols) * cw).attr("y", (_, i) => Math.floor(i / cols) * ch)
    .attr("width", Math.max(cw, 0.5)).attr("height", Math.max(ch, 0.5))
    .attr("fill", (x) => (Number.isFinite(x) ? color(x) : "#888"));
  // The colour legend: a bar from +m (top, red) through 0 (white) to −m (bottom, blue), m = the largest |value|.
  const bar = g.append("g").attr("class", "color-legend").attr("transform", `translate(${GLYPH_W + 3},0)`);
  const steps = 9;
  for (let i = 0; i < steps; i++) {
    bar.append("rect").attr("y", (i * GLYPH_H) / steps).attr("width", 6).attr("height", GLYPH_H / steps + 0.5)
      .attr("fill", color(m - (2 * m * (i + 0.5)) / steps));
  }
  bar.append("title").text(`colour scale: red +${fmtNum(m, 3)}, white 0, blue −${fmtNum(m, 3)}`);
}

function sparkline(g, v) {
  const items = flat(v).map((x) => (Number.isFinite(x) ? x : 0));
  const x = d3.scaleLinear([0, Math.max(1, items.length - 1)], [1, GLYPH_W - 1]);
  const [lo, hi] = d3.extent(items);
  const y = d3.scaleLinear([lo === hi ? lo - 1 : lo, lo === hi ? hi + 1 : hi], [GLYPH_H - 2, 2]);
  g.append("rect").attr("class", "glyph-bg").attr("width", GLYPH_W).attr("height", GLYPH_H).attr("rx", 3);
  if (lo < 0 && hi > 0) g.append("line").attr("class", "zero").attr("x1", 0).attr("x2", GLYPH_W).attr("y1", y(0)).attr("y2", y(0));
  g.append("path").attr("class", "spark").attr("d", d3.line((_, i) => x(i), (d) => y(d))(items));
}

function statsBar(g, v) {
  const lo = toNum(v.min), hi = toNum(v.max), mean = toNum(v.mean);
  g.append("rect").attr("class", "glyph-bg").attr("width", GLYPH_W).attr("height", GLYPH_H).attr("rx", 3);
  if (![lo, hi, mean].every(Number.isFinite)) return;
  const x = d3.scaleLinear([lo === hi ? lo - 1 : lo, lo === hi ? hi + 1 : hi], [4, GLYPH_W - 4]);
  g.append("line").attr("class", "range").attr("x1", x(lo)).attr("x2", x(hi)).attr("y1", GLYPH_H / 2).attr("y2", GLYPH_H / 2);
  g.append("line").attr("class", "mean").attr("x1", x(mean)).attr("x2", x(mean)).attr("y1", 3).attr("y2", GLYPH_H - 3);
  g.append("text").attr("class", "val tiny").attr("x", Math.min(GLYPH_W - 40, Math.max(2, x(mean) + 3))).attr("y", 10).text(`μ ${fmtNum(mean, 3)}`);
}
