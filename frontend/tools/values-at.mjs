// What the page draws for some tensors at every step of a trace, as JSON:
// `node frontend/tools/values-at.mjs < {code, trace, tids}` → [{k, entry, title, text, card, error, tensors: {tid: {visible, data}}}].
// Tests (tests/test_values_at_step.py) check these numbers against plain torch run line by line.
import { readFileSync } from "node:fs";
import { buildGraph } from "../static/js/model/graph.js";
import { buildTimeline, dataAt, isVisible } from "../static/js/model/timeline.js";
import { buildLoops } from "../static/js/model/loops.js";
import { narrate } from "../static/js/teach/narration.js";
import { updateCard } from "../static/js/teach/update-card.js";

const { code, trace, tids } = JSON.parse(readFileSync(0, "utf8"));
const tl = buildTimeline(trace, buildGraph(trace));
buildLoops(trace, tl); // as the page's loop view does when it loads a trace
const out = [];
for (let k = 0; k <= tl.total; k++) {
  const row = { k, entry: tl.entries[k - 1] ?? null, tensors: {} };
  for (const tid of tids) row.tensors[tid] = { visible: isVisible(tl, `t:${tid}`, k), data: dataAt(tl, tid, k) };
  try {
    Object.assign(row, narrate(tl, k, { source: code }));
    const card = updateCard(tl, k);
    if (card) row.card = card;
  } catch (err) {
    row.error = String(err?.stack || err);
  }
  out.push(row);
}
process.stdout.write(JSON.stringify(out));
