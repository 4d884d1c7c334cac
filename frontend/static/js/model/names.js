import { sourceNames } from "./expr.js";
// How autograd nodes and tensors are named on screen and in narration.

/** "op" | "accumulate" | "custom", from the tracer's `kind` when present, else from the name. */
export function opKind(node) {
  if (node.kind === "accumulate" || node.kind === "custom" || node.kind === "op") return node.kind;
  const name = String(node.name || "");
  if (name.includes("AccumulateGrad")) return "accumulate";
  if (/Backward$/.test(name) && !/^torch::/.test(name)) return "custom"; // built-ins end in Backward0/1
  return "op";
}

/** "torch::autograd::AccumulateGrad" → "AccumulateGrad". */
export function shortNodeName(name) {
  return String(name || "?").replace(/^torch::autograd::/, "");
}

/**
 * The name a tensor goes by: its variable name, "a.grad", or the expression that made it
 * ("sum(mul(a, b))"), so narration can talk about unnamed intermediates.
 */
export function tensorName(trace, index, tid, depth = 2) {
  for (let d = depth; d >= 1; d--) {
    const text = describe(trace, index, tid, d);
    if (text.length <= MAX_NAME) return text;
  }
  const s = index.producedBy.get(tid);
  const t = index.tensors.get(tid);
  if (!t?.name && !t?.grad_of && index.exprs?.has(tid)) return index.exprs.get(tid);
  return t?.name || t?.grad_of || s === undefined ? describe(trace, index, tid, 1) : `${trace.forward[s].op}(…)`; // long expressions collapse
}

const MAX_NAME = 28;
const MAX_SOURCE = 40;

function describe(trace, index, tid, depth) {
  const t = index.tensors.get(tid);
  if (!t) return "?";
  if (t.name) return index.versions.has(tid) ? `${t.name}${subscript(index.versions.get(tid))}` : t.name;
  if (t.grad_of) return `${describe(trace, index, t.grad_of, depth)}.grad`;
  const src = index.exprs?.get(tid);
  if (src && src.length <= MAX_SOURCE) return src; // the program's own words: `2 * x`, `np.exp(-x)`
  const s = index.producedBy.get(tid);
  if (s === undefined) return `tensor ${tid}`;
  if (depth <= 0) return "…";
  const step = trace.forward[s];
  const args = (step.inputs || []).map((i) => describe(trace, index, i, depth - 1));
  const infix = INFIX[step.op];
  if (infix && args.length === 2) return args.map(paren).join(` ${infix} `);
  return `${step.op}(${args.join(", ")})`;
}

const INFIX = { add: "+", sub: "-", mul: "*", div: "/", matmul: "@", mm: "@", pow: "**" };
const paren = (x) => (/ /.test(x) ? `(${x})` : x);

/** "dL/dx" for a plain name, "dL/d(W @ x + b)" for an expression. */
export function gradOf(name) {
  return `dL/d${/[ (]/.test(name) ? `(${name})` : name}`;
}

const ROW_NAME = 16; // characters of a grad row's label: a longer name is cut (the box's header shows it whole)
/** A tensor's grad row label while its gradient flows in: "dL/dc", "dL/d(2 * x)", a long one cut with "…"; never a bare "dL/d". */
export function flowLabel(name, fallback = "?") {
  const full = gradOf(String(name || fallback));
  return full.length <= ROW_NAME ? full : `${full.slice(0, ROW_NAME - 1)}…`;
}

/**
 * Lookup tables tensorName needs: tensors by id, the forward step that first output each, and a
 * version number for names several tensors share (x = x * w in a loop gives x₀, x₁, …).
 */
export function nameIndex(trace, source = "") {
  const tensors = new Map((trace.tensors || []).map((t) => [t.id, t]));
  const producedBy = new Map();
  (trace.forward || []).forEach((s, i) => (s.outputs || []).forEach((o) => producedBy.has(o) || producedBy.set(o, i)));
  const byName = new Map();
  for (const t of tensors.values()) if (t.name) byName.set(t.name, [...(byName.get(t.name) || []), t.id]);
  const versions = new Map();
  for (const ids of byName.values()) {
    if (ids.length < 2) continue;
    ids.sort((a, b) => (producedBy.get(a) ?? -1) - (producedBy.get(b) ?? -1));
    ids.forEach((id, i) => versions.set(id, i));
  }
  return { tensors, producedBy, versions, exprs: sourceNames(trace, source) };
}

// One name table per (trace, source), owned here: the card, the narration and the panel name a tensor alike.
const NAMES = new WeakMap();
/** nameIndex(trace, source), memoised by trace object then source. The result is shared: treat it as read-only. */
export function namesOf(trace, source = "") {
  let bySource = NAMES.get(trace);
  if (!bySource) NAMES.set(trace, (bySource = new Map()));
  const key = String(source ?? "");
  if (!bySource.has(key)) bySource.set(key, nameIndex(trace, key));
  return bySource.get(key);
}

const SUB = "₀₁₂₃₄₅₆₇₈₉";
function subscript(n) {
  return String(n).split("").map((c) => SUB[Number(c)]).join("");
}

/** "tied with model.lm_head.weight": the other module paths of one parameter (weight tying, a shared layer). */
export function tiedText(t) {
  return t?.tied?.length ? `${t.name} is tied with ${t.tied.join(", ")} (one tensor: both paths read and update it)` : "";
}
