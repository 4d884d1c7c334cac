// Lays out big graphs off the main thread, so the page stays responsive meanwhile. A trace arrives once
// per load (its graph is built at once, in parallel with the page's own), then layouts are asked for by id.
import { buildGraph } from "../model/graph.js";
import { buildTimeline } from "../model/timeline.js";
import { layoutGraph } from "./layout.js";
import { expandTrace } from "../wire/expand.js";

let current = null; // { loadId, graph, hints }

self.onmessage = ({ data }) => {
  const { id, loadId, trace, options } = data;
  try {
    if (trace) {
      const full = expandTrace(trace);
      const graph = buildGraph(full);
      current = { loadId, graph, hints: buildTimeline(full, graph).hints };
    }
    if (id === undefined) return;
    if (!current || current.loadId !== loadId) throw new Error("layout asked for an unknown trace");
    const layout = layoutGraph(current.graph, { ...options, collapsed: new Set(options.collapsed), hints: current.hints });
    self.postMessage({ id, layout });
  } catch (err) {
    if (id !== undefined) self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
