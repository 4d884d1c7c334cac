// Chooses where a layout runs: inline for small graphs, in a module Worker for big ones. A big trace is
// posted to the worker as soon as it arrives, so the worker builds its graph while the page builds its own.
import { layoutGraph } from "./layout.js";

const WORKER_ABOVE = 600; // drawn nodes past which layout leaves the main thread

/** Whether a trace is big enough to send to the worker before its graph is built (tensors + nodes). */
const rows = (list) => (Array.isArray(list) ? list.length : list?.n ?? 0); // a list, or a compact v2 column table
export const bigTrace = (trace) => rows(trace.tensors) + rows(trace.nodes) > WORKER_ABOVE;

export function createLayoutClient() {
  let worker = null, seq = 0, loadId = 0, sentLoad = -1, pending = null;
  const waiting = new Map();
  try {
    worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      const w = waiting.get(data.id);
      waiting.delete(data.id);
      if (w) data.error ? w.reject(new Error(data.error)) : w.resolve(data.layout);
    };
    worker.onerror = () => { worker = null; };
  } catch { worker = null; } // no module workers: lay out inline

  const send = (trace) => { worker.postMessage({ loadId, trace }); sentLoad = loadId; };
  return {
    /** A new trace was loaded: a big one goes to the worker now (small ones are laid out inline). */
    newTrace(trace) {
      loadId++;
      pending = trace ?? null;
      if (worker && trace && bigTrace(trace)) send(trace);
    },
    /** Lay out `graph` (from `trace`); resolves to the layout. */
    layout(trace, graph, options) {
      if (!worker || graph.nodes.size <= WORKER_ABOVE) return Promise.resolve(layoutGraph(graph, options));
      const id = ++seq;
      if (sentLoad !== loadId) send(pending ?? trace);
      worker.postMessage({ id, loadId, options: { ...options, collapsed: [...(options.collapsed || [])], hints: undefined } });
      return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }))
        .catch(() => layoutGraph(graph, options)); // a failed worker layout is redone inline
    },
  };
}
