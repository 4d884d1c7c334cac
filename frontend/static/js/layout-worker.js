// Runs the dagre layout of big graphs off the main thread, so the page stays responsive meanwhile.
import { buildGraph } from "./model/graph.js";
import { buildTimeline } from "./model/timeline.js";
import { layoutGraph } from "./model/layout.js";

let current = null; // { loadId, graph, hints }: the trace is sent once per load, layouts many times

self.onmessage = ({ data }) => {
  const { id, loadId, trace, options } = data;
  try {
    if (trace) {
      const graph = buildGraph(trace);
      current = { loadId, graph, hints: buildTimeline(trace, graph).hints };
    }
    if (!current || current.loadId !== loadId) throw new Error("layout asked for an unknown trace");
    const layout = layoutGraph(current.graph, { ...options, collapsed: new Set(options.collapsed), hints: current.hints });
    self.postMessage({ id, layout });
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
