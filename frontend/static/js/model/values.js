// Helpers for the trace's Values objects ({shape, values, min, max, mean, sum}); no DOM.

const SPECIAL = { nan: NaN, inf: Infinity, "-inf": -Infinity };

/** A trace number (number or "nan"/"inf"/"-inf") as a JS number. */
export function toNum(x) {
  if (typeof x === "number") return x;
  if (typeof x === "boolean") return x ? 1 : 0;
  if (x in SPECIAL) return SPECIAL[x];
  return Number(x);
}

/** A JS number back to the trace's JSON form. */
export function fromNum(x) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return x;
}

export function numel(shape) {
  return (shape || []).reduce((a, b) => a * b, 1);
}

/** Flat array of numbers, or null when the trace sent only statistics. */
export function flat(v) {
  if (!v || v.values === null || v.values === undefined) return null;
  const out = [];
  const walk = (x) => (Array.isArray(x) ? x.forEach(walk) : out.push(toNum(x)));
  walk(v.values);
  return out;
}

/** Nested list of the given shape from a flat array. */
export function nest(shape, items) {
  if (!shape.length) return items[0];
  let i = 0;
  const build = (d) => {
    const out = [];
    for (let k = 0; k < shape[d]; k++) out.push(d === shape.length - 1 ? items[i++] : build(d + 1));
    return out;
  };
  return build(0);
}

function statsOf(nums) {
  if (!nums.length) return { min: null, max: null, mean: null, sum: null };
  let min = Infinity, max = -Infinity, sum = 0;
  for (const x of nums) { if (x < min || Number.isNaN(x)) min = x; if (x > max || Number.isNaN(x)) max = x; sum += x; }
  return { min: fromNum(min), max: fromNum(max), mean: fromNum(sum / nums.length), sum: fromNum(sum) };
}

/** A Values object from a shape and a flat array of numbers. */
export function makeValues(shape, nums) {
  return { shape: [...shape], values: nest(shape, nums.map(fromNum)), ...statsOf(nums) };
}

/** Element-wise a + b (the accumulation .grad does); stats-only inputs give stats-only output. */
export function addValues(a, b) {
  if (!a) return b;
  if (!b) return a;
  const fa = flat(a), fb = flat(b);
  if (fa && fb && fa.length === fb.length) return makeValues(b.shape, fa.map((x, i) => x + fb[i]));
  const add = (x, y) => (x === null || y === null || x === undefined || y === undefined ? null : fromNum(toNum(x) + toNum(y)));
  return { shape: [...b.shape], values: null, min: null, max: null, mean: add(a.mean, b.mean), sum: add(a.sum, b.sum) };
}

/** Values full of one number (the implicit dL/dL = 1 seed). */
export function filled(shape, x) {
  return makeValues(shape, new Array(numel(shape)).fill(x));
}

/** Two Values hold the same numbers (to the precision shown). */
export function sameValues(a, b) {
  if (a === b) return true;
  if (!a || !b) return false;
  const fa = flat(a), fb = flat(b);
  if (fa && fb) return fa.length === fb.length && fa.every((x, i) => Object.is(x, fb[i]) || Math.abs(x - fb[i]) <= 1e-6 * Math.max(1, Math.abs(x)));
  return a.sum === b.sum && a.min === b.min && a.max === b.max;
}

/** Every element is zero (a freshly zeroed .grad). */
export function isZero(v) {
  const f = flat(v);
  if (f) return f.every((x) => x === 0);
  return toNum(v?.min) === 0 && toNum(v?.max) === 0;
}
