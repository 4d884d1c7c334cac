// Numbers and Values as short readable text, shared by the graph, the narration and the panel.
import { flat, numel, toNum } from "./values.js";

/** A number with up to `digits` significant digits, no trailing zeros. */
export function fmtNum(x, digits = 4) {
  if (x === null || x === undefined) return "?";
  const n = toNum(x);
  if (Number.isNaN(n)) return "nan";
  if (n === Infinity) return "inf";
  if (n === -Infinity) return "-inf";
  if (Number.isInteger(n) && Math.abs(n) < 1e6) return String(n);
  const a = Math.abs(n);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return n.toExponential(digits - 2).replace(/\.?0+e/, "e").replace("e+", "e");
  return String(Number(n.toPrecision(digits)));
}

export function fmtShape(shape) {
  return `[${(shape || []).join(", ")}]`;
}

/** Values as text: exact numbers when small, "mean/min/max" when the trace sent only statistics. */
export function fmtValues(v, { maxItems = 6, digits = 4 } = {}) {
  if (!v) return "—";
  const items = flat(v);
  if (!items) return fmtStats(v, digits);
  const shape = v.shape || [];
  if (!shape.length) return fmtNum(items[0], digits);
  if (items.length <= maxItems) return fmtNested(v.values, digits);
  const head = items.slice(0, Math.max(1, maxItems - 1)).map((x) => fmtNum(x, digits));
  return `[${head.join(", ")}, …] (${items.length} values)`;
}

function fmtNested(x, digits) {
  if (!Array.isArray(x)) return fmtNum(x, digits);
  return `[${x.map((y) => fmtNested(y, digits)).join(", ")}]`;
}

export function fmtStats(v, digits = 3) {
  if (!v || v.mean === null || v.mean === undefined) return `empty ${fmtShape(v?.shape)}`;
  return `mean ${fmtNum(v.mean, digits)}, min ${fmtNum(v.min, digits)}, max ${fmtNum(v.max, digits)}`;
}

/**
 * How a tensor should be drawn: "scalar" | "list" (numbers on one line) | "grid" (numbers, up to 16 in rows of
 * at most 4: a ≤4×4 matrix or a vector of 7–16) | "heatmap" | "sparkline" | "stats" (bigger ones).
 */
export function displayMode(v, maxListItems = 6) {
  if (!v) return "none";
  const n = numel(v.shape);
  if (v.values === null || v.values === undefined) return "stats";
  if (!v.shape.length) return "scalar";
  if (n <= maxListItems && v.shape.filter((s) => s > 1).length <= 1) return "list";
  if (gridShape(v.shape)) return "grid";
  return v.shape.length >= 2 ? "heatmap" : "sparkline";
}

export const GRID_MAX = 16; // numbers shown as numbers; past this a picture with its colour scale and min/max

// [rows, cols] of the number grid for a shape, or null when it does not fit 4×4.
function gridShape(shape) {
  const n = numel(shape);
  if (n > GRID_MAX || n === 0) return null;
  if (shape.length === 1) return [Math.ceil(n / 4), Math.min(4, n)];
  const cols = shape[shape.length - 1];
  return cols <= 4 && n / cols <= 4 ? [n / cols, cols] : null;
}

/** The lines of a "grid" tensor: one per row ("[1, 2, 3]"), numbers only. */
export function gridLines(v, digits = 4) {
  const items = flat(v);
  const [rows, cols] = gridShape(v.shape);
  const out = [];
  for (let r = 0; r < rows; r++) out.push(`[${items.slice(r * cols, r * cols + cols).map((x) => fmtNum(x, digits)).join(", ")}]`);
  return out;
}
