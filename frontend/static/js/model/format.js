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

/** How a tensor should be drawn: "scalar" | "list" (numbers) | "heatmap" | "sparkline" | "stats". */
export function displayMode(v, maxListItems = 6) {
  if (!v) return "none";
  const n = numel(v.shape);
  if (v.values === null || v.values === undefined) return "stats";
  if (!v.shape.length) return "scalar";
  if (n <= maxListItems) return "list";
  return v.shape.length >= 2 ? "heatmap" : "sparkline";
}
