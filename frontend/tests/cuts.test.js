import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { cutsAt } from "../static/js/model/problems.js";
import { narrate } from "../static/js/teach/narration.js";

// cut-and-unrelated (issue 16 item 7): pass 1's loss uses w2 only through detach(); `ref` ran under no_grad on a
// value pass 1 never uses, then enters pass 2's graph. Only w2's missing grad is explained by a cut.
test("a leaf used under no_grad on a value the pass never uses is not a cut; a detach() feeding the loss is", () => {
  const m = model("cut-and-unrelated");
  const names = new Map(m.trace.tensors.map((t) => [t.id, t.name]));
  const endOf = (p) => m.tl.entries.findIndex((e, i) => e.kind !== "forward" && e.pass === p
    && (i + 1 === m.tl.entries.length || m.tl.entries[i + 1].pass !== p || m.tl.entries[i + 1].kind === "forward")) + 1;
  const first = cutsAt(m.tl, endOf(0)).map((c) => names.get(c.tensor));
  assert.deepEqual(first, ["w2"]);
  const text = narrate(m.tl, endOf(0), { source: m.code }).text;
  assert.match(text, /w2\.grad stays None: .* detach\(\)/);
  assert.doesNotMatch(text, /ref\.\w+\.grad stays None/);
  for (let k = 0; k <= m.tl.total; k++) {
    assert.ok(!cutsAt(m.tl, k).some((c) => /^ref\./.test(names.get(c.tensor) || "")), `step ${k}`);
  }
});
