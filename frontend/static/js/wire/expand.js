// The compact trace (a value table, integer refs; version 2 also column tables: columns.js; docs/trace-api-v1.md)
// turned into the full form the page reads.
import { decodeColumns } from "./columns.js";

const mapList = (list, f) => (Array.isArray(list) ? list.map(f) : list);
const mapDict = (dict, f) => (dict && typeof dict === "object" ? Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, f(v)])) : dict);

/** Apply `f` to every place a trace holds a Values object (or a ref to one); returns a new trace. */
export function mapValues(trace, f) {
  const out = { ...trace };
  out.tensors = (trace.tensors || []).map((t) => ({ ...t, data: f(t.data), grad: f(t.grad) }));
  out.forward = (trace.forward || []).map((s) => {
    const step = { ...s, values: mapList(s.values, f) };
    if (s.grad_changes) step.grad_changes = mapDict(s.grad_changes, f);
    if (s.data_changes) step.data_changes = mapDict(s.data_changes, f);
    if (s.optim) step.optim = { ...s.optim, grad: f(s.optim.grad), before: f(s.optim.before), after: f(s.optim.after), terms: mapDict(s.optim.terms || {}, f) };
    return step;
  });
  out.nodes = (trace.nodes || []).map((n) => ({ ...n, saved: (n.saved || []).map((e) => ({ ...e, values: f(e.values) })) }));
  out.backward = (trace.backward || []).map((p) => {
    const pass = { ...p, gradient: f(p.gradient), steps: (p.steps || []).map((s) => {
      const step = { ...s, grad_outputs: mapList(s.grad_outputs, f), grad_inputs: mapList(s.grad_inputs, f) };
      if ("tensor_grad" in s) step.tensor_grad = f(s.tensor_grad);
      if (s.hooks) step.hooks = s.hooks.map((h) => ({ ...h, grad_in: f(h.grad_in), grad_out: f(h.grad_out) }));
      return step;
    }) };
    if (p.grads_after) pass.grads_after = mapDict(p.grads_after, f);
    return pass;
  });
  if (trace.loops) out.loops = trace.loops.map((l) => ({ ...l, recorded: (l.recorded || []).map((r) => (r.params ? { ...r, params: mapDict(r.params, f) } : r)) }));
  if (trace.finite_difference && "values" in trace.finite_difference) {
    out.finite_difference = { ...trace.finite_difference, values: f(trace.finite_difference.values) };
  }
  return out;
}

/** A compact trace (version 1 or 2) → the full form (every Values inline); a full trace is returned as it is. Pure. */
export function expandTrace(trace) {
  if (!trace || trace.format !== "compact") return trace;
  if (trace.compact_version === 2) trace = decodeColumns(trace);
  const table = Array.isArray(trace.value_table) ? trace.value_table : [];
  const full = mapValues(trace, (v) => (Number.isInteger(v) ? (table[v] ?? null) : v));
  delete full.format;
  delete full.value_table;
  return full;
}
