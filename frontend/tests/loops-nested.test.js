import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { dataAt } from "../static/js/model/timeline.js";
import { buildLoops, iterationAt, iterationKey, showIteration } from "../static/js/model/loops.js";
import { narrateUpdate } from "../static/js/teach/update-narration.js";
import { expandTrace } from "../static/js/wire/expand.js";
import { flat } from "../static/js/model/values.js";

const loaded = (name) => {
  const m = model(name);
  return { ...m, loops: buildLoops(m.trace, m.tl) };
};

test("nested loops (real tracer): minibatch iterations sit inside their epoch, in program order, innermost wins", () => {
  const { trace, loops, graph, tl } = loaded("loop-nested-real");
  const [outer, ...inner] = trace.loops;
  assert.deepEqual(inner.map((l) => [l.parent, l.parent_index, l.iterations]), [["L1", 0, 20], ["L1", 1, 20]]);
  assert.deepEqual(loops.iters.map((it) => it.label), ["iteration 0", "iteration 0 › 0", "iteration 0 › 1", "iteration 0 › 2", "iteration 0 › 19",
    "iteration 1", "iteration 1 › 0", "iteration 1 › 1", "iteration 1 › 2", "iteration 1 › 19"]);
  loops.iters.forEach((it, pos) => assert.equal(it.pos, pos));
  for (const it of loops.iters.filter((x) => x.parentKey)) {
    const grp = graph.groups.get(it.key);
    assert.equal(grp.parent, iterationKey(outer.id, Number(it.label.split(" ")[1])), `${it.label} is drawn inside its epoch`);
  }
  // every timeline step of a minibatch iteration maps to that minibatch iteration, not to the epoch around it
  for (let k = 1; k <= tl.total; k++) {
    const e = tl.entries[k - 1];
    if (e.kind !== "forward") continue;
    const tag = trace.forward[e.index].iteration;
    const it = loops.stepIter[k] >= 0 ? loops.iters[loops.stepIter[k]] : null;
    assert.equal(it ? `${it.loop}:${it.index}` : null, tag ? `${tag.loop}:${tag.index}` : null, `step ${k}`);
  }
  // showing a minibatch iteration opens its epoch too, and folds the other iterations
  const key = iterationKey(inner[1].id, 19);
  const shown = showIteration(graph, new Set(), key);
  assert.ok(!shown.has(key) && !shown.has(iterationKey(outer.id, 1)));
  assert.ok(shown.has(iterationKey(outer.id, 0)) && shown.has(iterationKey(inner[1].id, 2)));
  assert.equal(iterationAt(loops, loops.spans[loops.iters.findIndex((it) => it.key === key)].start).key, key);
});

test("recorded[].params: after a folded stretch w shows the tracer's value at the iteration's start, and the update is narrated from it", () => {
  for (const name of ["loop-poly-real", "loop-nested-real"]) {
    const { trace, tl, loops, code } = loaded(name);
    const gaps = loops.iters.filter((it, pos) => it.params && pos > 0 && it.index > 0 && !loops.iters.some((x) => x.loop === it.loop && x.index === it.index - 1));
    assert.ok(gaps.length >= 1, name);
    for (const it of gaps) {
      const span = loops.spans[it.pos];
      for (const [tid, v] of Object.entries(it.params)) assert.deepEqual(dataAt(tl, tid, span.start), v, `${name} ${it.label} ${tid}`);
      const w = Object.keys(it.params)[0];
      const upd = trace.forward.findIndex((s, i) => i >= it.forward[0] && i < it.forward[1] && s.op === "sub_" && s.inputs[0] === w);
      const k = tl.entries.findIndex((e) => e.kind === "forward" && e.index === upd) + 1;
      const text = narrateUpdate(tl, k, { source: code }).text;
      const before = flat(it.params[w])[0], after = flat(trace.forward[upd].values[0])[0];
      const m = /= (-?\d[\d.e+-]*) − \S+ × \(?(-?\d[\d.e+-]*)\)? = (-?\d[\d.e+-]*\d)/.exec(text);
      assert.ok(m, text);
      assert.ok(Math.abs(Number(m[1]) - before) <= 1e-3 * Math.max(1, Math.abs(before)), `${text} starts from ${before}`);
      assert.ok(Math.abs(Number(m[3]) - after) <= 1e-3 * Math.max(1, Math.abs(after)), text);
    }
  }
});

test("a compact trace's recorded[].params are refs that expandTrace resolves", () => {
  const { trace } = model("loop-poly-real");
  const table = [];
  const loops = trace.loops.map((l) => ({ ...l, recorded: l.recorded.map((r) => (r.params ? { ...r, params: Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, table.push(v) - 1])) } : r)) }));
  const full = expandTrace({ ...trace, loops, format: "compact", value_table: table, tensors: [], forward: [], nodes: [], backward: [] });
  assert.deepEqual(full.loops.map((l) => l.recorded.map((r) => r.params ?? null)), trace.loops.map((l) => l.recorded.map((r) => r.params ?? null)));
});
