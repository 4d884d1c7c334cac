// One slot of a derivative rule, printed and checked: the tree is evaluated on the node's saved values and shown
// as the explanation only if it gives the engine's numbers (fail-closed: a formula that disagrees is withheld).
import * as nd from "../model/nd.js";
import { flat, numel } from "../model/values.js";
import { fmtShape } from "../model/format.js";
import { print, defsOf, tryEvaluate, unbroadcasts } from "./expr-tree.js";
import { slotOf, fill } from "./derivatives.js";

// What a role holds when the rule does not say: the node's saved tensors first, else the forward's inputs.
const DEFAULT = {
  a: (env) => env.saved("self") ?? env.input(0),
  b: (env) => ["other", "mat2", "vec", "tensor", "exponent"].map((k) => env.saved(k)).find(Boolean) ?? env.input(1),
  y: (env) => env.saved("result") ?? env.out,
  g: (env) => env.g,
  t: (env) => env.saved("target") ?? env.input(1),
  x1: (env) => env.saved("mat1") ?? env.input(1),
  x2: (env) => env.saved("mat2") ?? env.input(2),
  c: (env) => env.num("other"),
  n: (env) => env.num("exponent"),
  beta: (env) => env.num("beta"),
  N: (env, shape) => numel(shape),
  K: (env, shape) => (env.g ? numel(shape) / Math.max(1, env.g.data.length) : null),
  dim: (env) => env.num("dim"),
  index: (env) => env.saved("index"),
  joined: (env) => env.joined,
};

/**
 * The row of slot i for a node: { local, send, defs, summed, computed, agrees, status } with status "checked" (the formula
 * gives the engine's numbers), "unchecked" (no numbers to check it on: words only) or "withheld" (it disagreed).
 */
export function ruleRow(rule, i, env, names, sent) {
  const slot = rule ? slotOf(rule, i, env) : null;
  if (!slot) return null;
  const shape = sent?.shape ?? [];
  const ctx = {
    ...env, shape,
    value: (k) => {
      const f = rule.values?.[k] ?? DEFAULT[k];
      const v = f ? f(env, shape) : env.saved(k) ?? env.num(k);
      return v ?? null;
    },
  };
  const allNames = { ...names };
  for (const [k, f] of Object.entries(rule.names || {})) allNames[k] = f(env);
  const words = (x) => (x == null ? null : typeof x === "string" ? fill(x, allNames) : print(x, allNames));
  const local = words(slot.local);
  if (!slot.send) return { local, send: slot.text ? fill(slot.text, allNames) : null, defs: [], summed: null, computed: null, agrees: null, status: "unchecked" };
  const computed = sent && flat(sent) && env.g ? tryEvaluate(slot.send, ctx) : null;
  const summed = unbroadcasts(slot.send) ? broadcastDims(env.g?.shape ?? env.gShape, shape) : null;
  const inner = print(slot.send, allNames);
  const send = summed ? `${/^[^ ]+$/.test(inner) ? inner : `(${inner})`} ${summed}` : inner;
  const row = { local, send, defs: [...defsOf(slot.local, allNames), ...defsOf(slot.send, allNames)].filter((d, j, xs) => xs.indexOf(d) === j), summed, computed: null, agrees: null, status: "unchecked" };
  // kept out of JSON: the tree and its values, so a test can print it, parse it back and evaluate that
  Object.defineProperties(row, { tree: { value: slot.send }, ctx: { value: ctx } });
  if (!computed) { row.why = (sent && !flat(sent)) || !env.g ? "the trace holds only statistics of these values" : "the page's small tensor kit cannot evaluate it here"; return row; }
  const c = squeezedTo(computed, shape);
  row.computed = c ? nd.toValues(c) : null;
  row.agrees = Boolean(c) && close(c.data, flat(sent));
  if (row.agrees) row.status = "checked";
  else Object.assign(row, { local: null, send: null, defs: [], summed: null, status: "withheld" });
  return row;
}

// A result whose shape differs from the engine's only by size-1 dims (a kept reduction dim) is the same numbers.
function squeezedTo(v, shape) {
  if (nd.sameShape(v.shape, shape)) return v;
  const sq = (s) => s.filter((n) => n !== 1);
  return nd.sameShape(sq(v.shape), sq(shape)) && v.data.length === numel(shape) ? nd.reshape(v, shape) : null;
}

/** "summed over dims 0, 1 (… its 6 copies' gradients add up)" where g is broader than the input it goes to. */
export function broadcastDims(a, b) {
  if (!a || !b || numel(b) >= numel(a) || numel(b) === 0) return null;
  const pad = a.length - b.length;
  if (pad < 0) return null;
  const dims = [];
  for (let i = 0; i < a.length; i++) {
    const bi = i - pad < 0 ? 1 : b[i - pad];
    if (bi === a[i]) continue;
    if (bi !== 1) return null;
    dims.push(i);
  }
  if (!dims.length) return null;
  const n = dims.reduce((acc, d) => acc * a[d], 1);
  return `summed over dim${dims.length > 1 ? "s" : ""} ${dims.join(", ")} (the input was broadcast to ${fmtShape(a)}, so its ${n} copies' gradients add up)`;
}

function close(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => Math.abs(x - b[i]) <= 1e-4 * Math.max(1, Math.abs(b[i])) || (Number.isNaN(x) && Number.isNaN(b[i])));
}
