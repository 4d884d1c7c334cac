import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { chainCard } from "../static/js/teach/chain-card.js";
import { question, withholdAnswer } from "../static/js/teach/quiz.js";
import { stateAt } from "../static/js/model/state.js";
import { fmtValues } from "../static/js/model/format.js";

test("quiz: while a question waits, the state the graph draws holds no part of its answer", () => {
  for (const name of ["basic-mul", "mlp-training-step", "fan-in"]) {
    const m = model(name);
    let asked = 0;
    for (let k = 1; k <= m.tl.total; k++) {
      const q = question(chainCard(m.tl, k, { source: m.code }));
      if (!q) continue;
      const s = withholdAnswer(stateAt(m.tl, k, { source: m.code }), stateAt(m.tl, k - 1, { source: m.code }));
      const shown = [];
      for (const t of m.tl.graph.tensors.values()) {
        if (!m.graph.nodes.has(`t:${t.id}`) || !s.visible(`t:${t.id}`)) continue; // not drawn at this step
        shown.push(s.grad(t.id), s.flow?.tensorFlow.get(t.id)?.sum, s.tensors.get(t.id)?.flow); // gradients (values of the forward are no answer)
      }
      for (const v of s.flow?.sent || []) shown.push(v.values);
      for (const v of s.edges?.values() || []) shown.push(v);
      const texts = shown.filter(Boolean).map((v) => fmtValues(v, { maxItems: 16 }));
      const before = stateAt(m.tl, k - 1);
      const wasShown = m.tl.graph.tensors.size && [...m.tl.graph.tensors.values()].some((t) => fmtValues(before.grad(t.id), { maxItems: 16 }) === q.answer || fmtValues(before.flow?.tensorFlow.get(t.id)?.sum, { maxItems: 16 }) === q.answer);
      if (!wasShown) assert.ok(!texts.includes(q.answer), `${name} step ${k}: the answer ${q.answer} is drawn while predicting`);
      assert.ok(s.flow.sent.every((v) => v.values === null), "travelling gradients carry no label");
      asked++;
    }
    assert.ok(asked, name);
  }
});
