// Drawing tensor boxes and autograd-node pills, and refreshing them for a timeline state.
import { fmtValues, displayMode, gridLines } from "../model/format.js";
import { flat, numel } from "../model/values.js";
import { tensorHeader, tensorRows, ROW, GLYPH_H, PAD, FONT, textWidth, valueHeight, GRID_LINE, gradLabel, gradLabelWidth } from "../layout/sizes.js";
import { drawGlyph } from "./glyphs.js";

const GLYPHS = new Set(["heatmap", "sparkline", "stats"]);

/** Create the static parts of a node's <g>; `p` is its layout box. */
export function drawNode(g, d, p, chipIds) {
  g.attr("class", nodeClass(d)).attr("data-key", d.key)
    .attr(d.type === "tensor" ? "data-tensor-id" : "data-node-id", d.id)
    .attr("transform", `translate(${p.x - p.width / 2},${p.y - p.height / 2})`);
  if (d.type === "tensor") drawTensor(g, d, p, chipIds || []);
  else drawOp(g, d, p);
}

/** A node's box only (big graphs: its text comes when it is in view at a readable scale). */
export function drawShell(el, d, p) {
  el.attr("class", nodeClass(d)).attr("data-key", d.key).attr(d.type === "tensor" ? "data-tensor-id" : "data-node-id", d.id)
    .attr("transform", `translate(${p.x - p.width / 2},${p.y - p.height / 2})`);
  el.append("rect").attr("class", "box").attr("width", p.width).attr("height", p.height).attr("rx", d.type === "tensor" || d.kind === "accumulate" ? 7 : p.height / 2);
}

export function nodeClass(d) {
  return d.type === "tensor" ? `node tensor ${d.kind}` : `node op ${d.kind}${d.hidden ? " hidden" : ""}`;
}

function drawTensor(g, d, p, chipIds) {
  const h = tensorHeader(d);
  const { hasGrad } = tensorRows(d);
  g.append("rect").attr("class", "box").attr("width", p.width).attr("height", p.height).attr("rx", 7);
  g.append("text").attr("class", d.derived ? "name derived" : "name").attr("x", PAD).attr("y", 17)
    .text(truncate(h.name, p.width - textWidth(h.meta, FONT.small) - 2 * PAD - 6, FONT.name, false));
  g.append("text").attr("class", "meta mono").attr("x", p.width - PAD).attr("y", 16).attr("text-anchor", "end").text(h.meta);
  g.append("g").attr("class", "datarow").attr("transform", "translate(0,22)");
  if (hasGrad) {
    const row = g.append("g").attr("class", "gradrow none");
    // The .grad tensor(s) of this tensor live here, as its grad row (every trace tensor id is in the DOM once).
    if (chipIds.length) row.attr("data-tensor-id", chipIds[chipIds.length - 1]).attr("data-grad-of", d.id);
    for (const older of chipIds.slice(0, -1)) row.append("g").attr("class", "grad-alias").attr("data-tensor-id", older).attr("data-grad-of", d.id);
    row.append("rect").attr("class", "gradbg").attr("x", 3).attr("width", p.width - 6).attr("rx", 4);
    row.append("text").attr("class", "lbl").attr("x", PAD);
  }
  const badge = g.append("g").attr("class", "badge").attr("display", "none").attr("transform", `translate(${p.width - 4},-7)`);
  badge.append("rect").attr("height", 15).attr("rx", 7.5);
  badge.append("text").attr("y", 11);
}

function drawOp(g, d, p) {
  const rx = d.kind === "accumulate" ? 5 : p.height / 2;
  g.append("rect").attr("class", "box").attr("width", p.width).attr("height", p.height).attr("rx", rx);
  if (d.kind === "custom") g.append("rect").attr("class", "box2").attr("x", 3).attr("y", 3)
    .attr("width", p.width - 6).attr("height", p.height - 6).attr("rx", rx - 3);
  const sub = d.op && d.kind !== "accumulate";
  g.append("text").attr("class", d.kind === "accumulate" ? "opsub" : "opname").attr("text-anchor", "middle")
    .attr("x", p.width / 2).attr("y", sub ? p.height / 2 - 2 : p.height / 2 + 4).text(d.label);
  if (sub) g.append("text").attr("class", "opsub").attr("text-anchor", "middle").attr("x", p.width / 2)
    .attr("y", p.height / 2 + 12).text(d.kind === "custom" ? `${d.op}.apply` : d.op);
}

/** Refresh a tensor's value and gradient rows; `look` = {data, grad, flow, fan, hooked}. */
export function updateTensor(g, d, p, look) {
  const dataRow = g.select(".datarow");
  const dataH = drawValues(dataRow, look.data, p.width);
  g.attr("data-value", compact(look.data));
  const row = g.select(".gradrow");
  if (row.empty()) return;
  row.attr("transform", `translate(0,${22 + dataH + 2})`);
  const v = look.grad ?? look.flow;
  const cls = look.grad ? "stored" : look.flow ? "flow" : "none";
  row.attr("class", `gradrow ${cls}`);
  row.select(".gradbg").attr("y", -1).attr("height", valueHeight(v));
  row.select(".lbl").attr("y", 13).text(look.grad || !look.flow ? "grad" : gradLabel(d)); // dL/d<its name> while it flows in
  const off = gradLabelWidth(d);
  setBadge(g, look.hooked ? "hook changed it" : look.fan > 1 ? `Σ ${look.fan} paths` : "");
  let vals = row.select("g.vals");
  if (vals.empty()) vals = row.append("g").attr("class", "vals").attr("transform", `translate(${off},0)`);
  drawValues(vals, v, p.width - off, "None");
  g.attr("data-grad", look.grad ? compact(look.grad) : null);
  g.attr("data-flow", !look.grad && look.flow ? compact(look.flow) : null); // dL/dt shown while .grad is None
  if (!row.attr("data-tensor-id")) return;
  row.attr("data-value", look.grad ? compact(look.grad) : null);
}

// A small pill on the box's top-right corner: fan-in count or a hook that changed the gradient.
function setBadge(g, text) {
  const b = g.select(".badge");
  b.attr("display", text ? null : "none");
  if (!text) return;
  const w = textWidth(text, 10.5, false) + 12;
  b.select("rect").attr("x", -w).attr("width", w);
  b.select("text").attr("x", -w + 6).text(text);
}

// Numbers as text for small tensors, a glyph for big ones (`empty` when there are none); returns the row height.
// The drawn content is keyed by everything it shows, the empty text included, so a redraw can never be skipped wrongly.
function drawValues(sel, v, width, empty = "") {
  const mode = v ? displayMode(v) : "none";
  const key = v ? `${mode}|${JSON.stringify([v.shape, v.values ?? [v.min, v.max, v.mean], v.imag?.values ?? v.imag?.mean])}|${width}` : `none|${empty}`;
  if (sel.attr("data-drawn") === key) return valueHeight(v);
  sel.attr("data-drawn", key).selectAll("*").remove();
  if (!v) {
    if (empty) sel.append("text").attr("class", "val").attr("x", 0).attr("y", 13).text(empty);
    return ROW;
  }
  if (GLYPHS.has(mode)) {
    drawGlyph(sel.append("g").attr("class", "glyph").attr("transform", `translate(${PAD},2)`), v, mode);
    return GLYPH_H + 4;
  }
  if (mode === "grid") { // up to 16 numbers as numbers: one text, a line (tspan) per row
    const text = sel.append("text").attr("class", "val grid").attr("x", PAD).attr("y", 13);
    gridLines(v).forEach((line, i) => text.append("tspan").attr("x", PAD).attr("dy", i ? GRID_LINE : 0)
      .text(truncate(line, width - 2 * PAD, FONT.mono, true)));
    return valueHeight(v);
  }
  sel.append("text").attr("class", "val").attr("x", PAD).attr("y", 13).text(truncate(fmtValues(v), width - 2 * PAD, FONT.mono, true));
  return ROW;
}

function truncate(text, width, size, mono) {
  const s = String(text ?? "");
  const max = Math.max(3, Math.floor(width / (textWidth("x", size, mono) || 7) + 0.5));
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Values as a short JSON attribute (tests and tools read it); omitted for big tensors. */
export function compact(v) {
  if (!v) return null;
  if (numel(v.shape) > 64 || v.values === null) return null;
  return JSON.stringify(v.shape.length ? flat(v) : flat(v)[0]);
}
