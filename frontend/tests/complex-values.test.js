import { test } from "node:test";
import assert from "node:assert/strict";
import { fmtValues, fmtStats, displayMode, gridLines } from "../static/js/model/format.js";

// A complex tensor's Values (issue 16 item 6): `values` and the statistics are the real part, `imag` the imaginary.
const small = { shape: [2], values: [-0.059, 0.5], min: -0.059, max: 0.5, mean: 0.2205, sum: 0.441,
  imag: { shape: [2], values: [0.1066, -0.25], min: -0.25, max: 0.1066, mean: -0.0717, sum: -0.1434 } };

test("complex values are shown as torch prints them, real and imaginary parts together", () => {
  assert.equal(fmtValues(small), "[-0.059+0.1066j, 0.5-0.25j]");
  assert.equal(fmtValues({ ...small, shape: [], values: 2, imag: { ...small.imag, shape: [], values: -1 } }), "2-1j");
});

test("a complex grid keeps both parts; a big complex tensor is text, never a picture of its real part", () => {
  const grid = { shape: [2, 2], values: [[1, 2], [3, 4]], min: 1, max: 4, mean: 2.5, sum: 10,
    imag: { shape: [2, 2], values: [[0, -1], [0.5, 0]], min: -1, max: 0.5, mean: -0.125, sum: -0.5 } };
  assert.deepEqual(gridLines(grid), ["[1+0j, 2-1j]", "[3+0.5j, 4+0j]"]);
  const big = { shape: [8, 8], values: null, min: -1, max: 2, mean: 0.25, sum: 16,
    imag: { shape: [8, 8], values: null, min: -3, max: 1, mean: -0.5, sum: -32 } };
  assert.equal(displayMode(big), "complex");
  assert.equal(fmtStats(big), "mean 0.25-0.5j, real part -1…2, imaginary part -3…1");
  assert.equal(fmtValues(big), fmtStats(big, 4));
});
