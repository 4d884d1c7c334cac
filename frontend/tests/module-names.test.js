import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { nameIndex, tensorName, tiedText } from "../static/js/model/names.js";
import { narrate } from "../static/js/teach/narration.js";

// module-names: a ModuleDict/ModuleList model with a tied embedding, and an nn.Sequential MLP (issue 16 item 4).
test("parameters are named by their module path, ModuleDict, ModuleList and Sequential keys included", () => {
  const { trace } = model("module-names");
  const names = new Set(trace.tensors.map((t) => t.name));
  for (const path of ["model.transformer.wte.weight", "model.transformer.h.0.weight", "model.transformer.h.0.bias",
    "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"]) assert.ok(names.has(path), path);
  assert.ok(![...names].some((n) => /Embedding|Linear|block\./.test(n || "")), [...names].join(", "));
});

test("a tied weight is one tensor that says which other path it is", () => {
  const { trace } = model("module-names");
  const wte = trace.tensors.find((t) => t.name === "model.transformer.wte.weight");
  assert.deepEqual(wte.tied, ["model.lm_head.weight"]);
  assert.match(tiedText(wte), /model\.transformer\.wte\.weight is tied with model\.lm_head\.weight/);
});

test("`mlp[0].bias.grad[:2]` is the slice of mlp.0.bias.grad, not `mlp[0] = …`", () => {
  const m = model("module-names");
  const idx = nameIndex(m.trace, m.code);
  const k = m.trace.forward.findIndex((s) => s.op === "index");
  const out = m.trace.forward[k].outputs[0];
  assert.equal(tensorName(m.trace, idx, out), "mlp[0].bias.grad[:2]");
  const texts = Array.from({ length: m.tl.total + 1 }, (_, i) => narrate(m.tl, i, { source: m.code }).text);
  assert.ok(!texts.some((t) => /mlp\[0\] =/.test(t)), texts.join("\n"));
});
