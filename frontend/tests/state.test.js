import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { model, fixture } from "./helpers.js";
import { stateAt, timelineOf } from "../static/js/model/state.js";
import { buildTimeline } from "../static/js/model/timeline.js";
import { buildGraph } from "../static/js/model/graph.js";
import { expandTrace } from "../static/js/wire/expand.js";

const NAMES = readdirSync(new URL("./fixtures", import.meta.url)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));

// Everything a view reads from a state, as JSON (so two states can be compared).
function snapshot(s) {
  const tensors = [...s.tensors].map(([id, t]) => [id, t.visible, t.data?.values ?? t.data?.mean ?? null, t.grad?.values ?? t.grad?.mean ?? null,
    t.flow?.values ?? t.flow?.mean ?? null, t.fan, t.hooked]);
  return JSON.stringify({ k: s.k, line: s.line, phase: s.phase, tensors, nodes: [...s.nodes], edges: [...s.edges.keys()],
    warnings: s.warnings.map((w) => w.message), problem: s.problem?.error?.message ?? null });
}

function rng(seed) {
  let x = seed;
  return () => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
}

test("stateAt(k) is the same whatever path led to k (random step/back/Home/End/jumps)", () => {
  for (const name of NAMES) {
    const fx = fixture(name);
    const trace = fx.trace ?? expandTrace(fx.compact); // compact fixtures go through the page's own entry
    const fresh = (k) => snapshot(stateAt(buildTimeline(trace, buildGraph(trace)), k)); // a new timeline: no memo
    const tl = buildTimeline(trace, buildGraph(trace));
    const expected = [];
    for (let k = 0; k <= tl.total; k++) expected.push(fresh(k));
    const rand = rng(name.length * 7919);
    let k = 0;
    const kept = [];
    for (let i = 0; i < 120; i++) {
      const r = rand();
      k = r < 0.5 ? Math.min(tl.total, k + 1) : r < 0.7 ? Math.max(0, k - 1) : r < 0.77 ? 0 : r < 0.84 ? tl.total : Math.floor(rand() * (tl.total + 1));
      const s = stateAt(tl, k);
      kept.push([k, s, snapshot(s)]);
      assert.equal(snapshot(s), expected[k], `${name}: step ${k} after ${i} moves`);
    }
    for (const [kk, s, snap] of kept) assert.equal(snapshot(s), snap, `${name}: a state returned earlier changed (step ${kk})`);
  }
});

test("stateAt accepts a trace and builds its timeline once", () => {
  const { trace } = fixture("basic-mul");
  assert.equal(timelineOf(trace), timelineOf(trace));
  const s = stateAt(trace, 10_000);
  assert.equal(s.k, s.total);
  const x = trace.tensors.find((t) => t.name === "a");
  assert.deepEqual(s.tensors.get(x.id).grad.values, x.grad.values);
  assert.equal(stateAt(trace, -3).phase, "start");
});

test("node activity: the running node, what ran and what waits", () => {
  const { tl, trace } = model("fan-in");
  const k = tl.entries.findIndex((e) => e.kind === "backward") + 1;
  const s = stateAt(tl, k);
  const first = trace.backward[0].steps[0].node;
  assert.equal(s.nodes.get(first), "running");
  assert.ok([...s.nodes.values()].includes("pending"));
  const end = stateAt(tl, tl.total);
  assert.ok(trace.backward[0].steps.every((st) => ["ran", "running"].includes(end.nodes.get(st.node))));
});

test("the state carries its step's narration", () => {
  const { tl, code } = model("basic-mul");
  const s = stateAt(tl, 8, { source: code });
  assert.match(s.narration.text, /MulBackward0 \(c = a \* b\) receives dL\/dc = \[4, 16, 36\]/);
  assert.equal(stateAt(tl, 0).narration.title, "Ready");
});
