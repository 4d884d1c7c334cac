import { test } from "node:test";
import assert from "node:assert/strict";
import { fanTerms, FAN_ALL, FAN_HEAD } from "../static/js/teach/fan-terms.js";

const parts = (n) => Array.from({ length: n }, (_, i) => ({ values: i + 1 }));

test("a short fan-in lists every term", () => {
  assert.equal(fanTerms(parts(3), String), "1 + 2 + 3");
  assert.equal(fanTerms(parts(FAN_ALL), String).split(" + ").length, FAN_ALL);
});

test("a long fan-in shows the first terms, how many are left out, and the last; it formats only those", () => {
  const seen = [];
  const text = fanTerms(parts(830), (v) => { seen.push(v); return String(v); });
  assert.equal(text, "1 + 2 + 3 + … 826 more + 830");
  assert.deepEqual(seen, [1, 2, 3, 830]);
  const shown = FAN_HEAD + 1, more = Number(text.match(/… (\d+) more/)[1]);
  assert.equal(shown + more, 830, "shown and left-out terms account for every gradient");
});
