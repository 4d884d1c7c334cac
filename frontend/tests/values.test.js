import { test } from "node:test";
import assert from "node:assert/strict";
import { addValues, flat, makeValues, toNum, sameValues, isZero, filled } from "../static/js/model/values.js";
import { fmtNum, fmtValues, displayMode } from "../static/js/model/format.js";

test("trace numbers: nan/inf strings become numbers and back", () => {
  assert.ok(Number.isNaN(toNum("nan")));
  assert.equal(toNum("-inf"), -Infinity);
  const v = makeValues([3], [1, NaN, Infinity]);
  assert.deepEqual(v.values, [1, "nan", "inf"]);
});

test("addValues adds element-wise and keeps statistics", () => {
  const a = makeValues([2, 2], [1, 2, 3, 4]);
  const s = addValues(a, a);
  assert.deepEqual(s.values, [[2, 4], [6, 8]]);
  assert.equal(s.sum, 20);
  assert.equal(s.min, 2);
  assert.equal(addValues(null, a), a);
});

test("addValues on statistics-only tensors adds mean and sum", () => {
  const big = { shape: [1000], values: null, min: -1, max: 1, mean: 0.5, sum: 500 };
  const s = addValues(big, big);
  assert.equal(s.values, null);
  assert.equal(s.sum, 1000);
  assert.equal(s.min, null);
});

test("helpers: flat, sameValues, isZero, filled", () => {
  assert.deepEqual(flat(makeValues([2, 1], [5, 6])), [5, 6]);
  assert.ok(sameValues(makeValues([2], [1, 2]), makeValues([2], [1, 2.0000001])));
  assert.ok(isZero(filled([3], 0)));
  assert.equal(flat({ shape: [9], values: null }), null);
});

test("fmtNum keeps 4 significant digits and drops noise", () => {
  assert.equal(fmtNum(715.0000000001), "715");
  assert.equal(fmtNum(1.1), "1.1");
  assert.equal(fmtNum(0.30000000000000004), "0.3");
  assert.equal(fmtNum(1234567), "1.23e6");
  assert.equal(fmtNum("nan"), "nan");
  assert.equal(fmtNum(0.000123456), "1.23e-4");
});

test("fmtValues: scalars, lists, long lists and statistics", () => {
  assert.equal(fmtValues(makeValues([], [392])), "392");
  assert.equal(fmtValues(makeValues([3], [8, 64, 216])), "[8, 64, 216]");
  assert.equal(fmtValues(makeValues([2, 2], [1, 2, 3, 4])), "[[1, 2], [3, 4]]");
  assert.match(fmtValues(makeValues([10], [...Array(10).keys()])), /^\[0, 1, 2, 3, 4, …\] \(10 values\)$/);
  assert.match(fmtValues({ shape: [1000, 1000], values: null, min: -4, max: 4.5, mean: 0.001, sum: 1000 }), /mean 0.001, min -4, max 4.5/);
});

test("displayMode picks numbers, heatmap, sparkline or stats", () => {
  assert.equal(displayMode(makeValues([3], [1, 2, 3])), "list");
  assert.equal(displayMode(makeValues([20], Array(20).fill(1))), "sparkline");
  assert.equal(displayMode(makeValues([4, 5], Array(20).fill(1))), "heatmap");
  assert.equal(displayMode({ shape: [1000], values: null }), "stats");
});
