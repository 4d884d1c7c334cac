// stdin: {"trace": Trace, "code": str} (or a list of them) → stdout: every backward step's chain-rule card, as JSON.
import { readFileSync } from "node:fs";
import { buildGraph } from "../../static/js/model/graph.js";
import { buildTimeline } from "../../static/js/model/timeline.js";
import { chainCard } from "../../static/js/teach/chain-card.js";

function cards({ trace, code }) {
  const tl = buildTimeline(trace, buildGraph(trace));
  const out = [];
  for (let k = 1; k <= tl.total; k++) {
    const c = chainCard(tl, k, { source: code });
    if (c) out.push(c);
  }
  return out;
}

const input = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(Array.isArray(input) ? input.map(cards) : cards(input)));
