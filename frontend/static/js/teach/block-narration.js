// A step told at block level: when the node that runs at step k is drawn inside a closed module block (or a folded
// "Block ×N"), the caption is about the block the user sees — the gradient entering it through an output, the node of
// its engine order that runs (i of n), the gradient leaving through its inputs — with the trace's numbers.
import { entryAt, gradAt, dataAt } from "../model/timeline.js";
import { fmtValues } from "../model/format.js";
import { gradOf, opKind, shortNodeName } from "../model/names.js";
import { shownBlock, forwardKey, blockForward, blockPorts, blockSpan, blockBorder, blockMembers, leavingAt, sendersTo } from "../model/blocks.js";
import { addValues, numel } from "../model/values.js";
import { fanTerms } from "./fan-terms.js";

const V = (v) => fmtValues(v, { maxItems: 6 });

/**
 * {title, parts} for step k when its node is inside a closed block of `collapsed` (the view's closed groups), else null.
 * `ctx`: narration's context ({name(tid), quote(line)}). The caller adds the pass intro, the pass's end and warnings.
 */
export function narrateBlock(tl, k, ctx, collapsed) {
  const e = entryAt(tl, k);
  if (!e || !collapsed?.size || (e.kind !== "forward" && e.kind !== "backward")) return null;
  const key = e.kind === "forward" ? forwardKey(tl.trace.forward[e.index]) : `n:${tl.trace.backward[e.pass].steps[e.index].node}`;
  const shown = key ? shownBlock(tl.graph, collapsed, key) : null;
  if (!shown) return null;
  const b = { key: shown.block, grp: tl.graph.groups.get(shown.block), fold: shown.fold ? tl.graph.groups.get(shown.fold) : null };
  b.name = blockName(tl.graph, b);
  return e.kind === "forward" ? forwardBlock(tl, ctx, e, k, b) : backwardBlock(tl, ctx, e, k, b);
}

/** "model.h.1 (Block)", "D (Sequential, call 2 of 3)", "model.h.1 (Block, folded into "Block ×1")". */
export function blockName(g, { grp, fold }) {
  const same = [...g.groups.values()].filter((x) => x.path === grp.path && x.module && !x.fold && !x.call).sort((a, b) => a.seq - b.seq);
  const call = same.length > 1 ? `, call ${same.indexOf(grp) + 1} of ${same.length}` : "";
  const folded = fold ? `, folded into "${fold.label}"` : "";
  return `${grp.path} (${grp.module?.cls ?? "module"}${call}${folded})`;
}

const list = (xs) => (xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`);
const plural = (n, one, many = `${one}s`) => (n === 1 ? one : many);

// Where inside the block a node sits: its innermost module below the block, and the fused call it is part of.
function whereIn(g, nodeKey, blockKey) {
  let inner = null, call = null;
  for (let k = g.nodes.get(nodeKey)?.group; k && k !== blockKey; k = g.groups.get(k)?.parent) {
    const grp = g.groups.get(k);
    if (grp.call && !call) call = grp.label;
    else if (grp.module && !grp.fold && !grp.call && !inner) inner = grp.path;
  }
  return `${inner ? ` in ${inner}` : ""}${call ? `, part of ${call}` : ""}`;
}

function forwardBlock(tl, ctx, e, k, b) {
  const ops = blockForward(tl, b.key), i = ops.indexOf(e.index) + 1, n = ops.length;
  const s = tl.trace.forward[e.index];
  const { inputs, outputs } = blockPorts(tl, b.key);
  const own = blockMembers(tl, b.key).tensors;
  const parts = [];
  const title = `Forward ${e.index + 1}/${tl.trace.forward.length} · block ${b.grp.path} · ${i}/${n}`;
  const outside = inputs.filter((t) => !own.has(t) && !tl.graph.tensors.get(t)?.grad_of);
  if (i === 1) {
    const shownIn = outside.slice(0, 3).map((t) => `${ctx.name(t)} = ${V(dataAt(tl, t, k))}`);
    parts.push(`Block ${b.name} starts${shownIn.length ? `: its ${plural(outside.length, "input")} ${list(shownIn)}${outside.length > 3 ? ` and ${outside.length - 3} more` : ""}` : ""}.`);
  }
  const src = ctx.quote(s.line);
  const outs = (s.outputs || []).map((o, j) => `${ctx.name(o)} = ${V(s.values?.[j] ?? dataAt(tl, o, k))}`);
  const at = `${whereIn(tl.graph, forwardKey(s), b.key)}${s.line ? ` (line ${s.line}${src ? `: ${src}` : ""})` : ""}`;
  parts.push(`${i === 1 ? "It" : `Block ${b.name}`} computes op ${i} of ${n}, ${s.op}${at}${outs.length ? ` → ${list(outs)}` : ""}.`);
  if (i === n && outputs.length) {
    const shownOut = outputs.slice(0, 3).map((t) => `${ctx.name(t)} = ${V(dataAt(tl, t, k))}`);
    parts.push(`That is the block's last op: its ${plural(outputs.length, "output")} ${list(shownOut)}${outputs.length > 3 ? ` and ${outputs.length - 3} more` : ""} ${outputs.length === 1 ? "goes" : "go"} on to the rest of the program.`);
  }
  return { title, parts, kind: "forward", block: b.key };
}

function backwardBlock(tl, ctx, e, k, b) {
  const pass = tl.trace.backward[e.pass], step = pass.steps[e.index];
  const g = tl.graph, node = g.tnodes.get(step.node);
  const span = blockSpan(tl, e.pass, b.key), i = span.indexOf(e.index) + 1, n = span.length;
  const border = blockBorder(tl, e.pass, b.key);
  const title = `Backward pass ${e.pass + 1}/${tl.trace.backward.length} · ${e.index + 1}/${pass.steps.length} · block ${b.grp.path} · ${i}/${n}`;
  const parts = [];
  const acc = opKind(node || {}) === "accumulate";
  const rootFn = g.tensors.get(pass.root)?.grad_fn;
  if (border.root && step.node === rootFn) parts.push(`It starts inside block ${b.name}, at ${ctx.name(pass.root)}.`);
  const enter = acc ? [] : entering(tl, ctx, e.pass, step, border.enter.get(step.node) || []);
  if (enter.length) parts.push(`The gradient enters block ${b.name} through its ${plural(enter.length, "output")} ${list(enter)}.`);
  else if (acc && border.enter.has(step.node)) parts.push(`${ctx.name(node.tensor)}'s gradient comes into block ${b.name} from outside it: another call uses ${ctx.name(node.tensor)} too.`);
  else if (i === 1 && !(border.root && step.node === rootFn)) parts.push(`The gradient reaches block ${b.name}.`);
  for (const h of step.hooks || []) { // a tensor hook inside the block changes the gradient: said as at node level
    parts.push(h.grad_out ? `A hook on ${ctx.name(h.tensor)} runs and turns its gradient ${V(h.grad_in)} into ${V(h.grad_out)}.`
      : `A hook on ${ctx.name(h.tensor)} runs, sees its gradient ${V(h.grad_in)} and leaves it unchanged.`);
  }
  const src = stepSource(tl, ctx, step.node);
  const what = acc
    ? `AccumulateGrad stores ${ctx.name(node.tensor)}.grad = ${V(gradAt(tl, node.tensor, k) ?? step.grad_outputs?.[0])}`
    : `${shortNodeName(node?.name)}${whereIn(g, `n:${step.node}`, b.key)}${src ? ` (${src})` : ""}`;
  parts.push(`Inside it the engine runs node ${i} of ${n}: ${what}.`);
  if (i < n) {
    const now = border.leave.filter((x) => x.j === e.index && !x.param).map((x) => `${leaveName(tl, ctx, x)} = ${V(x.values)}`);
    if (now.length) parts.push(`Part of the gradient leaves the block here: ${list(now)}.`);
  } else parts.push(...leaving(tl, ctx, e.pass, e.index, b, span));
  return { title, parts, kind: "backward", block: b.key };
}

// "x: dL/dx = [..]" for each output of node `step` the gradient came in on from outside the block.
function entering(tl, ctx, p, step, sends) {
  const byNr = new Map();
  for (const x of sends) { if (!byNr.has(x.nr)) byNr.set(x.nr, []); byNr.get(x.nr).push(x); }
  const fstep = tl.trace.forward.find((s) => s.node === step.node);
  const node = tl.graph.tnodes.get(step.node);
  const out = [];
  for (const [nr, xs] of [...byNr].sort((a, b) => a[0] - b[0])) {
    const route = tl.graph.routes.get(`${xs[0].from}#${xs[0].slot}`);
    const tid = route?.via ?? fstep?.outputs?.[nr] ?? (nr === 0 ? node?.tensor : null);
    const name = tid ? ctx.name(tid) : `${shortNodeName(node?.name)}'s output ${nr}`;
    // every gradient this output received came from outside: the engine's own sum (grad_outputs) is the number
    const total = sendersTo(tl, p, step.node, nr) === xs.length ? step.grad_outputs?.[nr] : null;
    const sum = total ?? xs.reduce((a, x) => addValues(a, x.values), null);
    const terms = xs.length > 1 && numel(sum?.shape) <= 6 ? `${fanTerms(xs, V)} = ` : ""; // the terms of small gradients only
    out.push(xs.length > 1 ? `${name}: ${gradOf(name)} = ${terms}${V(sum)} (${xs.length} paths from outside, summed)` : `${name}: ${gradOf(name)} = ${V(sum)}`);
  }
  return out;
}


// The last of the block's nodes has run: what left it, per input, and the parameter gradients it sent out or stored.
function leaving(tl, ctx, p, j, b, span) {
  const out = [];
  const gone = leavingAt(tl, p, b.key, j);
  const inputs = gone.filter((x) => !x.param), params = gone.filter((x) => x.param);
  if (inputs.length) {
    const said = inputs.map((x) => {
      const name = leaveName(tl, ctx, x);
      return x.parts.length > 1 ? `${name} = ${V(x.sum)} (${x.parts.length} paths inside the block, summed)` : `${name} = ${V(x.sum)}`;
    });
    out.push(`That was the block's last node: the gradient leaves block ${b.name} through its ${plural(inputs.length, "input")}: ${list(said)}.`);
  } else {
    const { inputs: ins } = blockPorts(tl, b.key), own = blockMembers(tl, b.key).tensors;
    // an input that requires grad, not a module's parameter drawn outside the block (a module called twice, a loop)
    const mods = new Set((tl.trace.modules || []).map((x) => x.path));
    const param = (t) => t.is_leaf && mods.has(String(t.name ?? "").replace(/\.[^.]*$/, ""));
    const needs = ins.some((t) => !own.has(t) && tl.graph.tensors.get(t)?.requires_grad && !param(tl.graph.tensors.get(t)));
    out.push(needs ? `That was the block's last node in this pass. No gradient leaves block ${b.name} here: this backward pass does not go through its inputs.`
      : `That was the block's last node. No gradient leaves block ${b.name} through its inputs: none of them requires grad.`);
  }
  if (params.length) {
    const names = [...new Set(params.map((x) => ctx.name(tl.graph.tnodes.get(x.to)?.tensor)))];
    out.push(`It also sends gradients out to ${plural(names.length, "the parameter", "the parameters")} ${list(names.slice(0, 4))}${names.length > 4 ? ` and ${names.length - 4} more` : ""}, drawn outside it.`);
  }
  const steps = tl.trace.backward[p].steps;
  const stored = span.filter((x) => opKind(tl.graph.tnodes.get(steps[x].node) || {}) === "accumulate").length;
  if (stored) out.push(`On the way ${stored} ${plural(stored, "parameter")} of the block got ${plural(stored, "its", "their")} .grad.`);
  return out;
}

// "dL/dx" for where a gradient leaves to: the tensor it travels as, else the node that receives it.
function leaveName(tl, ctx, x) {
  if (x.via != null) return gradOf(ctx.name(x.via));
  return `the gradient for ${shortNodeName(tl.graph.tnodes.get(x.to)?.name)}`;
}

function stepSource(tl, ctx, nodeId) {
  const fstep = tl.trace.forward.find((s) => s.node === nodeId);
  const line = fstep?.line ?? tl.graph.tnodes.get(nodeId)?.line;
  const q = ctx.quote(line);
  return line ? `line ${line}${q ? `: ${q}` : ""}` : "";
}
