// Print the page's narration of every step of a trace, as JSON: `node frontend/tools/narrate.mjs < {code, trace}`.
// Tests (tests/test_narration_truth.py, tests/test_block_narration.py) check these sentences against plain torch.
// `level` (a module overview level) or `collapsed` (group keys) in a doc: the narration of that view (closed blocks).
import { readFileSync } from "node:fs";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline } from "../static/js/model/timeline.js";
import { narrate } from "../static/js/teach/narration.js";
import { collapsedAt } from "../static/js/layout/levels.js";

const input = JSON.parse(readFileSync(0, "utf8"));
const docs = Array.isArray(input) ? input : [input];
const out = docs.map(({ code, trace, level = null, collapsed = null }) => {
  const full = trace; // full-format traces (the page expands compact ones where they enter it)
  const graph = buildGraph(full, { source: code });
  const tl = buildTimeline(full, graph);
  const closed = Number.isInteger(level) ? collapsedAt(graph, level) : Array.isArray(collapsed) ? new Set(collapsed) : null;
  const steps = [];
  for (let k = 0; k <= tl.total; k++) steps.push({ k, entry: tl.entries[k - 1] ?? null, ...narrate(tl, k, { source: code, collapsed: closed }) });
  return steps;
});
process.stdout.write(JSON.stringify(Array.isArray(input) ? out : out[0]));
