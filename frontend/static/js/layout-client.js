// Chooses where a layout runs: inline for small graphs, in a module Worker for big ones.
import { layoutGraph } from "./model/layout.js";

const WORKER_ABOVE = 600; // drawn nodes past which layout leaves the main thread

export function createLayoutClient() {
  let worker = null, seq = 0, loadId = 0, sentLoad = -1;
  const waiting = new Map();
  try {
    worker = new Worker(new URL("./layout-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      const w = waiting.get(data.id);
      waiting.delete(data.id);
      if (w) data.error ? w.reject(new Error(data.error)) : w.resolve(data.layout);
    };
    worker.onerror = () => { worker = null; };
  } catch { worker = null; } // no module workers: lay out inline

  return {
    /** A new trace was loaded (the worker gets it with the next big layout). */
    newTrace() { loadId++; },
    /** Lay out `graph` (from `trace`); resolves to the layout. */
    layout(trace, graph, options) {
      if (!worker || graph.nodes.size <= WORKER_ABOVE) return Promise.resolve(layoutGraph(graph, options));
      const id = ++seq;
      const msg = { id, loadId, options: { ...options, collapsed: [...(options.collapsed || [])], hints: undefined } };
      if (sentLoad !== loadId) { msg.trace = trace; sentLoad = loadId; }
      worker.postMessage(msg);
      return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }))
        .catch(() => layoutGraph(graph, options)); // a failed worker layout is redone inline
    },
  };
}
