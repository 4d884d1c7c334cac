// Box sizes of drawn nodes, estimated from text length so layout can run without a DOM.
import { fmtValues, fmtShape, displayMode, gridLines } from "../model/format.js";
import { flowLabel } from "../model/names.js";

export const FONT = { mono: 12, name: 14, small: 11 };
export const GROUP_PX = 20; // a closed block's title
const MONO_W = 0.61; // DejaVu Sans Mono advance width per em
const SANS_W = 0.6;
export const ROW = 18;
export const PAD = 8;
export const GLYPH_W = 132; // heatmap / sparkline width
export const GLYPH_H = 26;

export function textWidth(text, size = FONT.mono, mono = true) {
  return String(text ?? "").length * size * (mono ? MONO_W : SANS_W);
}

/** Rows a tensor box shows: header, data, and a grad row when it can ever get a gradient. */
export function tensorRows(d) {
  const t = d.tensor;
  const dataMode = displayMode(t.data);
  const hasGrad = t.requires_grad || t.grad != null || d.kind === "grad";
  return { dataMode, hasGrad };
}

export function tensorHeader(d) {
  const t = d.tensor;
  return { name: d.label ?? `#${t.id}`, meta: `${fmtShape(t.shape)} ${t.dtype}` };
}

/** A tensor's grad row label while its gradient flows in ("dL/dc"), and the px its values start at, after it. */
export const gradLabel = (d) => flowLabel(d.label, `#${d.tensor.id}`);
export const gradLabelWidth = (d) => Math.max(40, Math.ceil(textWidth(gradLabel(d), 11.5, false)) + 10);

const GLYPH_MODES = ["heatmap", "sparkline", "stats"];
export const GRID_LINE = 14; // px per line of a number grid
/** Height of a value row showing `v` (a number grid grows by a line per row). */
export const valueHeight = (v) => (!v ? ROW : displayMode(v) === "grid" ? gridLines(v).length * GRID_LINE + 5
  : GLYPH_MODES.includes(displayMode(v)) ? GLYPH_H + 4 : ROW);
const rowHeight = (vs) => Math.max(ROW, ...vs.map(valueHeight));
const valueWidth = (v) => (GLYPH_MODES.includes(displayMode(v)) ? GLYPH_W + 70
  : displayMode(v) === "grid" ? Math.max(...gridLines(v).map((l) => textWidth(l, FONT.mono))) : textWidth(fmtValues(v), FONT.mono));
const rowWidth = (vs) => Math.max(0, ...vs.map(valueWidth));

/**
 * Width/height of a drawable node (tensor box, op pill, AccumulateGrad tag). `hint` lists every
 * Values a tensor's rows will show ({data: [], grad: []}); without it the final values are used.
 */
export function nodeSize(d, hint = null) {
  if (d.type === "tensor") {
    const t = d.tensor;
    const { hasGrad } = tensorRows(d);
    const h = tensorHeader(d);
    const dataVals = hint?.data?.length ? hint.data : [t.data];
    const gradVals = hint?.grad?.length ? hint.grad : [t.grad ?? t.data];
    const header = textWidth(h.name, FONT.name, false) + 12 + textWidth(h.meta, FONT.small);
    const grad = hasGrad ? gradLabelWidth(d) + Math.max(rowWidth(gradVals), textWidth("None")) : 0;
    const w = Math.min(380, Math.max(86, header, rowWidth(dataVals), grad) + 2 * PAD + 4);
    const height = 22 + rowHeight(dataVals) + (hasGrad ? rowHeight(gradVals) + 2 : 0) + 5;
    return { width: Math.round(w), height: Math.round(height) };
  }
  if (d.type === "op") {
    if (d.kind === "accumulate") return { width: Math.round(textWidth("AccumulateGrad", FONT.small) + 20), height: 26 };
    const w = Math.max(textWidth(d.label, FONT.mono), textWidth(d.op ?? "", FONT.small)) + 28;
    return { width: Math.round(Math.min(300, w)), height: d.op ? 40 : 30 };
  }
  if (d.type === "stub") return { width: Math.round(textWidth(`↪ ${d.label}`, FONT.small) + 16), height: 22 };
  if (d.type === "group") {
    const t = d.text ?? { title: d.label, sub: "" };
    // Block titles are big (20 px at scale 1, never under 12 px on screen): readable in an overview at scale ~0.6.
    return { width: Math.round(Math.max(140, textWidth(t.title, GROUP_PX, false) * 1.12 + 40, textWidth(t.sub, 13) + 32)), height: 66 };
  }
  return { width: 60, height: 30 };
}

/** The one label a node keeps when zoomed out (semantic zoom): its name, or a group's title. */
// An autograd node keeps its operation's name ("AddBackward0" → "Add"); the full name comes back zoomed in.
export const lodText = (d) => (d.type === "group" ? (d.text?.title ?? d.label) : d.kind === "accumulate" ? "Acc"
  : d.type === "op" ? String(d.label ?? "").replace(/Backward\d*$/, "") || d.label : d.label ?? "");

/** A long-edge stub's one zoomed-out label: the name of what it stands for (an op's without "Backward0"). */
export const stubText = (label) => String(label ?? "").replace(/Backward\d*$/, "") || String(label ?? "");

export const LOD_PX = 12; // screen px of that label, whatever the scale
/** The smallest scale at which `text` fits, at LOD_PX on screen, in a w×h box (with a little room around it). */
export const lodScale = (text, w, h) => Math.max((textWidth(text, LOD_PX, false) * 1.08 + 10) / w, (LOD_PX + 4) / h);

// Lengths an elided label may have: a ladder, not every count, so zooming rewrites a label at a few scales only.
const LOD_STEPS = [4, 5, 6, 7, 8, 10, 12, 14, 17, 20, 24, 28, 33, 40, 48, 57, 68, 80];
export const LOD_MIN = LOD_STEPS[0]; // fewer characters than this (and "…") tell a reader nothing: the box stays empty

/**
 * How many characters of `text` a w×h box (graph px) shows at scale k, its label LOD_PX on screen (at least
 * `floor` graph px: a block's title): text.length when it fits whole, else a length from the ladder that fits with
 * "…" after it, else 0 (the label is not drawn: under LOD_MIN characters, or a box under a line's height).
 */
export function lodChars(text, w, h, k, floor = 0) {
  const px = Math.max(LOD_PX, floor * k), len = String(text ?? "").length;
  if (!len || h * k < px + 1) return 0;
  const room = (w * k - 10) / (px * SANS_W * 1.08); // characters that fit, as lodScale counts them
  if (room >= len) return len;
  let n = 0;
  for (const s of LOD_STEPS) if (s + 1 <= room && s < len) n = s;
  return n;
}

/** `text` cut to its first n characters and "…" (whole when n covers it; "" for n = 0). */
export const elide = (text, n) => { const t = String(text ?? ""); return n >= t.length ? t : n <= 0 ? "" : `${t.slice(0, n).trimEnd()}…`; };
