// The chain-rule card at the active backward node: local derivative × incoming gradient = gradient sent, with numbers.
import { entryAt, flowAt, dataAt, gradAt } from "../model/timeline.js";
import { namesOf, opKind, shortNodeName, tensorName, gradOf } from "../model/names.js";
import { flat } from "../model/values.js";
import { fmtNum } from "../model/format.js";
import * as nd from "../model/nd.js";
import { ruleFor, fill } from "./derivatives.js";
import { ruleRow } from "./rule-eval.js";
import { sym, said, print } from "./expr-tree.js";
import { nodeHelp, customClass, customBackwardSource } from "./node-help.js";

/**
 * The card for step k, or null when step k is not a backward node. Plain data:
 * { node, name, help, kind, op, incoming: {label, values, parts}, rows: [{slot, to, target, local, send,
 *   sent, computed, agrees}], custom: {cls, line, text} | null, accumulate: {tensor, before, after} | null }.
 */
export function chainCard(tl, k, { source = "" } = {}) {
  let byStep = CARDS.get(tl);
  if (!byStep) CARDS.set(tl, (byStep = new Map()));
  const key = `${k}\n${source ?? ""}`;
  if (!byStep.has(key)) byStep.set(key, frozen(computeCard(tl, k, String(source ?? ""))));
  return byStep.get(key);
}

// Cards by timeline, then step and source: the narration and the stage ask for the same card each step.
const CARDS = new WeakMap();

// A shared card is read-only: freezing its own objects (not the trace's value arrays it points at) makes a write throw.
function frozen(card) {
  if (!card) return card;
  for (const part of [card.incoming, card.accumulate, card.custom, ...card.rows]) if (part) Object.freeze(part);
  Object.freeze(card.rows);
  return Object.freeze(card);
}

function computeCard(tl, k, source) {
  const e = entryAt(tl, k);
  if (!e || e.kind !== "backward") return null;
  const trace = tl.trace;
  const pass = trace.backward[e.pass];
  const step = pass.steps[e.index];
  const node = tl.graph.tnodes.get(step.node);
  if (!node) return null;
  const table = namesOf(trace, source);
  const nameOf = (tid) => tensorName(trace, table, tid);
  const name = shortNodeName(node.name);
  const kind = opKind(node);
  const y = node.tensor ? nameOf(node.tensor) : "out";
  const flow = flowAt(tl, k);
  const fan = node.tensor ? flow?.tensorFlow.get(node.tensor) : null;
  const incomingValues = step.grad_outputs?.[0] ?? null;
  const incoming = {
    label: gradOf(y), values: incomingValues, all: step.grad_outputs || [],
    parts: fan && fan.parts.length > 1 ? fan.parts.map((p) => ({ from: p.from, values: p.values })) : [],
  };
  const card = { node: node.id, name, kind, help: nodeHelp(node.name, kind), op: null, incoming, rows: [], custom: null, accumulate: null, pass: e.pass, index: e.index };

  if (kind === "accumulate") {
    const tid = node.tensor;
    const before = pass.call === "grad" ? null : gradAt(tl, tid, k - 1);
    const after = pass.call === "grad" ? incomingValues : gradAt(tl, tid, k);
    card.op = `${nameOf(tid)}.grad ${before ? "+=" : "="} ${gradOf(nameOf(tid))}`;
    card.accumulate = { tensor: tid, name: nameOf(tid), before, after, stored: pass.call !== "grad" };
    return card;
  }

  const fstepIndex = forwardIndexOf(tl, node.id);
  const kf = fstepIndex === null ? k : forwardK(tl, fstepIndex);
  const slots = (node.next || []).map(([m], slot) => ({ m, slot, route: tl.graph.routes.get(`${node.id}#${slot}`) }));
  const fstep = fstepIndex === null ? null : trace.forward[fstepIndex];
  const inputTid = (slot) => (slots[slot]?.route ? slots[slot].route.via : fstep?.inputs?.[slot]) ?? null;
  const inName = (slot) => {
    const t = inputTid(slot);
    if (t) return nameOf(t);
    const m = slots[slot]?.m; // e.g. Wᵀ made inside nn.Linear: named by what the transpose read
    const via = m != null && /^(T|Permute|Transpose)Backward0$/.test(shortNodeName(tl.graph.tnodes.get(m)?.name)) ? tl.graph.routes.get(`${m}#0`)?.via : null;
    return via ? `${nameOf(via)}ᵀ` : null;
  };
  const c = scalarOf(node, "other");
  const names = {
    a: inName(0) ?? "a", b: inName(1) ?? c ?? "b", y, g: gradOf(y), c: c ?? "c", n: scalarOf(node, "exponent") ?? "n",
    N: String(numelOf(inputTid(0), tl) ?? "N"), index: scalarOf(node, "index") ?? "index", dim: scalarOf(node, "dim") ?? "dim",
    x1: inName(1) ?? "mat1", x2: inName(2) ?? "mat2", w: inName(1) ?? "w", t: inName(1) ?? "target", K: "K",
  };
  const bracketed = { ...names };
  for (const key of ["a", "b", "y"]) bracketed[key] = paren(names[key]);

  if (kind === "custom") {
    const cls = customClass(name);
    const src = customBackwardSource(source, cls);
    card.custom = { cls, line: src?.line ?? null, text: src?.text ?? null, def: src?.def ?? null };
    card.op = `${y} = ${cls}.apply(…)`;
  }
  const rule = kind === "custom" ? null : ruleFor(name) ?? catRule(name, slots.length);
  if (rule) card.op = typeof rule.op === "string" ? fill(rule.op, bracketed) : print(rule.op, names);
  const env = envOf(tl, node, step, slots, inputTid, kf);
  slots.forEach((s, i) => {
    const sent = step.grad_inputs?.[s.slot] ?? null;
    if (s.m == null) return;
    const named = s.route?.via ? nameOf(s.route.via) : inName(s.slot);
    const target = named ? gradOf(named) : `the gradient for ${shortNodeName(tl.graph.tnodes.get(s.m)?.name)}`;
    const row = { slot: s.slot, to: s.m, target, local: null, send: null, defs: [], summed: null, sent, computed: null, agrees: null, status: null };
    if (kind === "custom") {
      row.local = `your backward() of ${card.custom.cls}`;
      row.send = card.custom.text ? `line ${card.custom.line}: ${card.custom.text}` : `${card.custom.cls}.backward(ctx, ${gradOf(y)})`;
    } else if (rule) {
      const wrt = i < 2 ? bracketed[i === 0 ? "a" : "b"] : paren(inName(i) ?? `input ${i}`);
      const r = ruleRow(rule, i, { ...env, slotShape: sent?.shape }, names, sent);
      if (r) {
        Object.assign(row, r, { local: r.local == null ? null : `∂${bracketed.y}/∂${wrt} = ${r.local}` });
        Object.defineProperties(row, { tree: { value: r.tree }, ctx: { value: r.ctx } });
      }
    }
    card.rows.push(row);
  });
  return card;
}

// cat/stack: one slot per input, each gets its own block (or slice) of g along dim.
function catRule(name, n) {
  if (name !== "CatBackward0" && name !== "StackBackward0") return null;
  const stack = name === "StackBackward0";
  const slot = (s) => ({ local: "1 on its own block", send: said(sym("g"), stack ? `slice ${s} along dim {dim}` : `block ${s} along dim {dim}`, (v, ctx) => {
    const d = ctx.num("dim") ?? 0;
    const shapes = ctx.allShapes();
    if (stack) return nd.reshape(nd.piece(v, d, shapes.map(() => 1), s), shapes[s]);
    return nd.piece(v, d, shapes.map((sh) => sh[d < 0 ? d + sh.length : d]), s);
  }) });
  return { op: stack ? "{y} = stack([{a}, …])" : "{y} = cat([{a}, …])", slots: [...Array(n).keys()].map(slot) };
}

function envOf(tl, node, step, slots, inputTid, kf) {
  const g0 = step.grad_outputs?.[0] ? nd.fromValues(step.grad_outputs[0]) : null;
  const savedMap = new Map((node.saved || []).map((s) => [s.name.replace(/^_saved_/, ""), s]));
  const outs = (step.grad_outputs || []);
  let joined = null;
  if (outs.length > 1) joined = joinPieces(node, outs, savedMap);
  return {
    g: g0 ?? joined, joined, gShape: outs[0]?.shape ?? null, // g null: the trace holds only statistics (formula unchecked)
    out: node.tensor ? nd.fromValues(dataAt(tl, node.tensor, kf)) : null,
    input: (slot) => { const t = inputTid(slot); return t ? nd.fromValues(dataAt(tl, t, kf - 1)) : null; },
    saved: (nm) => { const s = savedMap.get(nm); return s?.values ? nd.fromValues(s.values) : null; },
    num: (nm) => savedNum(savedMap.get(nm)),
    savedList: (nm) => { const s = savedMap.get(nm); const v = savedNum(s); if (v !== undefined) return [v]; return s?.repr ? (s.repr.match(/-?\d+/g) || []).map(Number) : null; },
    savedRepr: (nm) => savedMap.get(nm)?.repr ?? null,
    allShapes: () => (step.grad_inputs || []).map((g) => g?.shape ?? []),
  };
}

// Split's pieces' gradients joined back along dim (a piece nobody used sends zeros).
function joinPieces(node, outs, savedMap) {
  const dim = savedNum(savedMap.get("dim")) ?? 0;
  const sizes = savedMap.get("self_sym_sizes")?.repr?.match(/\d+/g)?.map(Number);
  const split = savedNum(savedMap.get("split_size"));
  if (!sizes) return null;
  const d = dim < 0 ? dim + sizes.length : dim;
  const pieces = [];
  let left = sizes[d];
  outs.forEach((g) => {
    const size = g?.shape ? g.shape[d] : Math.min(split ?? left, left);
    const shape = sizes.map((n, i) => (i === d ? size : n));
    pieces.push(g ? nd.fromValues(g) : { shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0) });
    left -= size;
  });
  return pieces.every(Boolean) ? nd.cat(pieces, d) : null;
}

const paren = (x) => (/[ ]/.test(String(x)) ? `(${x})` : x);

function savedNum(s) {
  if (!s) return undefined;
  const f = s.values ? flat(s.values) : null;
  if (f && f.length === 1) return f[0];
  if (s.repr && /^-?\d+(\.\d+)?$/.test(s.repr.trim())) return Number(s.repr);
  if (s.repr === "True" || s.repr === "False") return s.repr === "True" ? 1 : 0;
  return undefined;
}

function scalarOf(node, nm) {
  const v = savedNum((node.saved || []).find((s) => s.name.replace(/^_saved_/, "") === nm));
  return v === undefined ? undefined : fmtNum(v);
}

function numelOf(tid, tl) {
  const t = tid ? tl.graph.tensors.get(tid) : null;
  return t ? (t.shape || []).reduce((a, b) => a * b, 1) : null;
}

function forwardIndexOf(tl, nodeId) {
  if (!tl._fwdOfNode) {
    tl._fwdOfNode = new Map();
    tl.trace.forward.forEach((s, i) => { if (s.node != null && !tl._fwdOfNode.has(s.node)) tl._fwdOfNode.set(s.node, i); });
  }
  return tl._fwdOfNode.get(nodeId) ?? null;
}

// Timeline step k at which forward[i] has run (values read "as of" that step).
function forwardK(tl, i) {
  if (!tl._fwdK) {
    tl._fwdK = new Map();
    tl.entries.forEach((e, j) => { if (e.kind === "forward") tl._fwdK.set(e.index, j + 1); });
  }
  return tl._fwdK.get(i) ?? tl.total;
}
