import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { narrate } from "../static/js/teach/narration.js";
import { fmtValues } from "../static/js/model/format.js";

// vmap-grad (issue 16 item 6): per-sample gradients with torch.func; nothing there fills a .grad.
test("inside vmap(grad) the values are every sample's and the narration never promises a .grad", () => {
  const m = model("vmap-grad");
  const texts = Array.from({ length: m.tl.total + 1 }, (_, k) => narrate(m.tl, k, { source: m.code }).text);
  assert.ok(!texts.some((t) => /backward will fill|stores it in .*\.grad/.test(t)), texts.join("\n"));
  assert.ok(!texts.some((t) => /empty \[/.test(t)), texts.join("\n"));
  assert.ok(texts.some((t) => /torch\.func\.vmap\(grad\).*no \.grad is filled/.test(t)));
  const mul = m.trace.forward.find((s) => s.op === "mul");
  assert.equal(mul.transform, "vmap(grad)");
  assert.equal(fmtValues(mul.values[0]), "2 samples: [[0.5, -2, 6], [0.25, -0.25, -2]]"); // w * x for x = xs[0], xs[1]
});

// gradcheck-sin: one step on the page, but the narration says what it really ran and with which tolerances.
test("gradcheck's step states its own backward calls, eps, atol, rtol and its result", () => {
  const m = model("gradcheck-sin");
  const s = m.trace.forward.find((x) => x.op === "gradcheck");
  const k = m.tl.entries.findIndex((e) => e.kind === "forward" && m.trace.forward[e.index] === s) + 1;
  const text = narrate(m.tl, k, { source: m.code }).text;
  assert.ok(s.check.backward_calls > 1);
  assert.match(text, new RegExp(`runs ${s.check.backward_calls} backward calls of its own`));
  assert.match(text, /eps = 0\.000001 .* atol = 0\.00001, rtol = 0\.001\. It returns True/);
});
