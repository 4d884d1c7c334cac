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

/** A complex number as torch prints it: "-0.059+0.1066j". */
export function fmtComplex(re, im, digits = 4) {
  const i = toNum(im);
  return `${fmtNum(re, digits)}${i < 0 || Object.is(i, -0) ? "-" : "+"}${fmtNum(Math.abs(i), digits)}j`;
}

/** A Values' elements as text, one per element: numbers, or `a+bj` for a complex tensor (Values.imag). */
export function fmtItems(v, digits = 4) {
  const items = flat(v);
  if (!items) return null;
  const imag = v.imag ? flat(v.imag) : null;
  return imag ? items.map((x, i) => fmtComplex(x, imag[i], digits)) : items.map((x) => fmtNum(x, digits));
}

/** Values as text: exact numbers when small, "mean/min/max" when the trace sent only statistics. */
export function fmtValues(v, { maxItems = 6, digits = 4 } = {}) {
  if (!v) return "—";
  if (v.vmap) return `${v.vmap} samples: ${fmtValues({ ...v, vmap: null }, { maxItems, digits })}`; // torch.func.vmap
  const items = fmtItems(v, digits);
  if (!items) return fmtStats(v, digits);
  const shape = v.shape || [];
  if (!shape.length) return items[0];
  if (items.length <= maxItems) return fmtNested(v.values, items, { i: 0 });
  const head = items.slice(0, Math.max(1, maxItems - 1));
  return `[${head.join(", ")}, …] (${items.length} values)`;
}

function fmtNested(x, items, at) {
  if (!Array.isArray(x)) return items[at.i++];
  return `[${x.map((y) => fmtNested(y, items, at)).join(", ")}]`;
}

export function fmtStats(v, digits = 3) {
  if (!v || v.mean === null || v.mean === undefined) return `empty ${fmtShape(v?.shape)}`;
  if (v.imag) { // complex numbers have no order: the range of each part
    return `mean ${fmtComplex(v.mean, v.imag.mean, digits)}, real part ${fmtNum(v.min, digits)}…${fmtNum(v.max, digits)}, `
      + `imaginary part ${fmtNum(v.imag.min, digits)}…${fmtNum(v.imag.max, digits)}`;
  }
  return `mean ${fmtNum(v.mean, digits)}, min ${fmtNum(v.min, digits)}, max ${fmtNum(v.max, digits)}`;
}

/**
 * How a tensor should be drawn: "scalar" | "list" (numbers on one line) | "grid" (numbers, up to 16 in rows of
 * at most 4: a ≤4×4 matrix or a vector of 7–16) | "heatmap" | "sparkline" | "stats" (bigger ones) | "complex"
 * (a bigger complex tensor: as text, its first elements or its statistics).
 */
export function displayMode(v, maxListItems = 6) {
  if (!v) return "none";
  const n = numel(v.shape);
  if (v.values === null || v.values === undefined) return v.imag ? "complex" : "stats";
  if (!v.shape.length) return "scalar";
  if (n <= maxListItems && v.shape.filter((s) => s > 1).length <= 1) return "list";
  if (gridShape(v.shape)) return "grid";
  if (v.imag) return "complex"; // as text: a picture of the real part alone would not be the tensor
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
  const items = fmtItems(v, digits);
  const [rows, cols] = gridShape(v.shape);
  const out = [];
  for (let r = 0; r < rows; r++) out.push(`[${items.slice(r * cols, r * cols + cols).join(", ")}]`);
  return out;
}
