// Print the page model's state at every step of each trace, as JSON: `node states.mjs < [trace, …]`.
// For each trace, each step k: {tensor id: [data, grad, flow]} as flat number lists (null where absent).
// tests/test_truth_model.py compares these with the trace's meaning computed independently in Python.
import { readFileSync } from "node:fs";
import { stateAt, timelineOf } from "../../static/js/model/state.js";
import { flat } from "../../static/js/model/values.js";

const num = (x) => (Number.isFinite(x) ? x : String(x));  // JSON has no NaN/Infinity
const list = (v) => { const f = flat(v); return f ? f.map(num) : null; };
const traces = JSON.parse(readFileSync(0, "utf8"));
const out = traces.map((trace) => {
  const tl = timelineOf(trace);
  const steps = [];
  for (let k = 0; k <= tl.total; k++) {
    const row = {};
    for (const [tid, t] of stateAt(tl, k).tensors) row[tid] = [list(t.data), list(t.grad), list(t.flow)];
    steps.push(row);
  }
  return steps;
});
process.stdout.write(JSON.stringify(out));
