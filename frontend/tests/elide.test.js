// Semantic zoom's labels: a box whose name does not fit shows it cut with "…" to what fits, never under 4 characters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lodChars, elide, lodScale, stubText, textWidth, LOD_PX, LOD_MIN } from "../static/js/layout/sizes.js";

// The on-screen width the label of n kept characters (and "…") needs, as the page's estimate counts it.
const needs = (n, px = LOD_PX) => textWidth("x".repeat(n), px, false) * 1.08 + 10;

test("a name that fits is shown whole, from the very scale lodScale gives", () => {
  const name = "BinaryCrossEntropy";
  const w = 226, h = 40, k = lodScale(name, w, h);
  assert.equal(lodChars(name, w, h, k + 1e-9), name.length);
  assert.ok(lodChars(name, w, h, k - 0.01) < name.length);
  assert.equal(elide(name, name.length), name);
});

test("a name that does not fit is cut to what fits, with an ellipsis, and the cut label fits its box", () => {
  const name = "1 + logvar - mu.pow(2) - logvar.exp()";
  for (const k of [0.3, 0.45, 0.62, 0.7]) {
    const w = 380, h = 94, n = lodChars(name, w, h, k);
    assert.ok(n >= LOD_MIN && n < name.length, `k=${k}: ${n}`);
    assert.ok(needs(n + 1) <= w * k + 1e-9, `k=${k}: ${n} characters and … need ${needs(n + 1)} px of ${w * k}`);
    const shown = elide(name, n);
    assert.ok(shown.endsWith("…") && name.startsWith(shown.slice(0, -1)), shown);
    assert.ok(shown.length <= n + 1);
  }
  assert.equal(elide("BinaryCrossEntropy", 13), "BinaryCrossEn…");
  assert.equal(elide("1 + logvar - mu.pow(2)", 13), "1 + logvar -…"); // no space before the ellipsis
});

test("longer as the box grows on screen, and only a few lengths on the way (the text changes at a few scales)", () => {
  const name = "torch.sum(1 + logvar - mu.pow(2) - logvar.exp())";
  let last = 0;
  const lengths = new Set();
  for (let k = 0.1; k < 1.6; k += 0.005) {
    const n = lodChars(name, 236 / 0.62, 64, k);
    assert.ok(n >= last, `shrinks at k=${k}`);
    last = n;
    lengths.add(n);
  }
  assert.equal(last, name.length);
  assert.ok(lengths.size <= 20, `${lengths.size} lengths`);
});

test("a box too small for 4 characters and … (or for a line) stays empty, and is small on screen", () => {
  assert.equal(lodChars("logvar.exp()", 40, 60, 0.62), 0);
  assert.ok(needs(LOD_MIN + 1) < 60, "an empty box is under the 60 px a reader would expect a name in");
  assert.equal(lodChars("logvar.exp()", 300, 22, 0.5), 0, "11 px tall on screen: no 12 px line");
  assert.ok(lodChars("logvar.exp()", 300, 22, 0.62) > 0, "14 px tall: a 12 px line fits");
  assert.equal(lodChars("Add", 60, 40, 0.3), 0, "a short name is whole or nothing");
  assert.equal(lodChars("", 300, 60, 1), 0);
  assert.equal(elide("abc", 0), "");
});

test("a block's title never drawn under 20 graph px counts its own size", () => {
  const title = "model · GPT";
  const w = 240, h = 66;
  // at scale 1 the title is 20 px on screen: it needs more room than a 12 px label would
  assert.ok(lodChars(title, 150, h, 1, 20) < lodChars(title, 150, h, 1));
  assert.equal(lodChars(title, w, h, 1, 20), title.length);
});

test("a stub reads as the name of what it stands for", () => {
  assert.equal(stubText("PowBackward0"), "Pow");
  assert.equal(stubText("1 + logvar"), "1 + logvar");
  assert.equal(stubText("Backward0"), "Backward0");
  assert.equal(stubText(undefined), "");
});
