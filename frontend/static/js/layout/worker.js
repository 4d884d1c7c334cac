// Lays out big graphs off the main thread, so the page stays responsive meanwhile. A trace arrives once
// per load (its graph is built at once, in parallel with the page's own), then layouts are asked for by id.
import { buildGraph } from "../model/graph.js";
import { buildTimeline } from "../model/timeline.js";
import { layoutGraph } from "./layout.js";
import { expandTrace } from "../wire/expand.js";

let current = null; // { loadId, full, graph, hints, bookkeeping }

self.onmessage = ({ data }) => {
  const { id, loadId, trace, options } = data;
  try {
    if (trace) {
      const full = expandTrace(trace);
      const graph = buildGraph(full);
      current = { loadId, full, graph, hints: buildTimeline(full, graph).hints, bookkeeping: false };
    }
    if (id === undefined) return;
    if (!current || current.loadId !== loadId) throw new Error("layout asked for an unknown trace");
    if (!!options.bookkeeping !== current.bookkeeping) { // the page shows the training bookkeeping too (or again not)
      current.bookkeeping = !!options.bookkeeping;
      current.graph = buildGraph(current.full, { bookkeeping: current.bookkeeping });
      current.hints = buildTimeline(current.full, current.graph).hints;
    }
    const layout = layoutGraph(current.graph, { ...options, collapsed: new Set(options.collapsed), hints: current.hints });
    self.postMessage({ id, layout });
  } catch (err) {
    if (id !== undefined) self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
