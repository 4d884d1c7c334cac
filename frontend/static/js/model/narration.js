// One plain-words caption per timeline step, with the numbers ("MulBackward0 (c = a * b) receives …").
import { entryAt, flowAt, gradAt } from "./timeline.js";
import { fmtValues, fmtNum } from "./format.js";
import { nameIndex, opKind, shortNodeName, tensorName, gradOf } from "./names.js";
import { flat, numel, isZero } from "./values.js";
import { localRule } from "./formulas.js";
import { narrateUpdate } from "./update-narration.js";

const V = (v) => fmtValues(v, { maxItems: 6 });

/** Caption for step k: { title, text }. `source` is the program text (for quoting lines). */
export function narrate(tl, k, { source = "" } = {}) {
  const ctx = context(tl, source);
  const e = entryAt(tl, k);
  if (!e) return { title: "Ready", text: intro(tl, ctx) };
  const update = narrateUpdate(tl, k, { source }); if (update) return update; // parameter updates: their own module
  if (e.kind === "error") return failedPass(tl, ctx, e.pass, k);
  const body = e.kind === "forward" ? forwardText(tl, ctx, e.index) : backwardText(tl, ctx, e, k);
  const title = e.kind === "forward"
    ? `Forward ${e.index + 1}/${tl.trace.forward.length}`
    : `Backward pass ${e.pass + 1}/${tl.trace.backward.length} · ${e.index + 1}/${tl.trace.backward[e.pass].steps.length}`;
  const tail = k === tl.total ? ending(tl) : "";
  return { title, text: tail ? `${body} ${tail}` : body };
}

function context(tl, source) {
  if (!tl._names) tl._names = nameIndex(tl.trace);
  return { idx: tl._names, lines: String(source).split("\n"), name: (tid) => tensorName(tl.trace, tl._names, tid) };
}

function quote(ctx, line) {
  const text = line ? (ctx.lines[line - 1] || "").trim() : "";
  if (!text) return "";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function intro(tl, ctx) {
  const tr = tl.trace;
  const nb = tr.backward.length;
  const bsteps = tr.backward.reduce((a, p) => a + p.steps.length, 0);
  if (!tl.total) return tr.status === "error" ? `Nothing ran before the error. ${ending(tl)}` : "The program made no tensor operations.";
  return `Ready: ${tr.forward.length} forward step${tr.forward.length === 1 ? "" : "s"}, then ${nb} backward pass${nb === 1 ? "" : "es"} `
    + `(${bsteps} node${bsteps === 1 ? "" : "s"} run). Press Play or → to step through.`;
}

function ending(tl) {
  const err = tl.trace.error;
  if (tl.trace.status === "error" && err) {
    return `The program stopped: ${err.type}: ${err.message}${err.line ? ` (line ${err.line})` : ""}.`;
  }
  return "";
}

function forwardText(tl, ctx, i) {
  const s = tl.trace.forward[i];
  const src = quote(ctx, s.line);
  const where = `${s.module ? `[${s.module}] ` : ""}${s.line ? `Line ${s.line}` : "Step"}${src ? `: ${src}` : ""}`;
  const outs = (s.outputs || []).map((o, j) => `${ctx.name(o)} = ${V(s.values?.[j] ?? ctx.idx.tensors.get(o)?.data)}`).join(", ");
  const first = (s.inputs || [])[0];
  const special = kindText(ctx, s, first, outs);
  if (special) return `${where} ${special}`;
  if (s.node != null) {
    const node = tl.graph.tnodes.get(s.node);
    const saved = (node?.saved || []).filter((x) => x.tensor || (x.values && !/sym_|alpha/.test(x.name)))
      .map((x) => (x.tensor ? ctx.name(x.tensor) : x.name));
    const kind = opKind(node || {});
    const rec = kind === "custom"
      ? `autograd records ${shortNodeName(node.name)}, the backward of the custom Function ${s.op}`
      : `autograd records ${shortNodeName(node?.name)}`;
    const sv = saved.length ? `, saving ${listWords(saved)} for backward` : "";
    return `${where} → ${outs}. Because an input requires grad, ${rec}${sv}.`;
  }
  if (!(s.inputs || []).length || isFactory(s.op)) {
    const o = (s.outputs || [])[0];
    const t = ctx.idx.tensors.get(o);
    const leaf = t?.requires_grad && t?.is_leaf ? ` It is a leaf that requires grad, so backward will fill ${ctx.name(o)}.grad.` : "";
    return `${where} creates ${outs}.${leaf}`;
  }
  let why;
  if (!s.grad_enabled) why = "gradient tracking is off here (torch.no_grad()), so autograd records nothing";
  else if (/detach/.test(s.op)) why = "detach() cuts the result out of the graph: no gradient flows back through it";
  else if ((s.inputs || []).some((t) => ctx.idx.tensors.get(t)?.requires_grad)) why = "autograd does not record this operation";
  else why = "no input requires grad, so autograd records nothing";
  return `${where} → ${outs}. Not tracked: ${why}.`;
}

// Steps that are not plain math: retain_grad, hooks, .grad edits, optimizer updates, .data aliases.
function kindText(ctx, s, first, outs) {
  const nm = first ? ctx.name(first) : "";
  const gradOut = (s.outputs || []).findIndex((o) => ctx.idx.tensors.get(o)?.grad_of);
  if (gradOut >= 0) {
    const owner = ctx.idx.tensors.get(s.outputs[gradOut]).grad_of;
    const v = s.values?.[gradOut];
    return `${v && isZero(v) ? "resets" : "changes"} ${ctx.name(owner)}.grad to ${V(v)}.`;
  }
  if (s.op === "retain_grad") return `asks autograd to keep ${nm}.grad during backward (a non-leaf tensor normally gets none).`;
  if (s.op === "register_hook") return `registers a hook on ${nm}: during backward it sees d/d${nm} and may replace it.`;
  if (s.op === "grad.set") return `sets ${nm}.grad = ${s.values?.[0] ? V(s.values[0]) : "None"}, so the next backward starts ${nm}.grad afresh.`;
  if (s.kind === "optim") return `— the optimizer updates ${nm} in place from its .grad → ${outs}. Not tracked: optimizers work under torch.no_grad().`;
  if (s.kind === "alias") return `→ ${outs}: .data shares ${nm}'s numbers but has no autograd history (like detach()).`;
  if (s.op === "requires_grad_") return `→ ${nm} now requires grad: a leaf that backward will fill.`;
  return null;
}

/** ones_like(x) and friends only read x's shape: a fresh tensor, not a function of x. */
export function isFactory(op) {
  return /_like$/.test(String(op));
}

function listWords(xs) {
  return xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`;
}

function backwardText(tl, ctx, e, k) {
  const pass = tl.trace.backward[e.pass];
  const step = pass.steps[e.index];
  const node = tl.graph.tnodes.get(step.node);
  const flow = flowAt(tl, k);
  const d = (tid) => gradOf(tid ? ctx.name(tid) : "?"); // L is whatever backward started from (named in the pass intro)
  const parts = [];
  if (e.index === 0) parts.push(passIntro(ctx, pass));
  for (const h of step.hooks || []) {
    parts.push(`A hook on ${ctx.name(h.tensor)} runs and turns its gradient ${V(h.grad_in)} into ${V(h.grad_out)}.`);
  }
  const name = shortNodeName(node?.name);
  const tid = node?.tensor;
  const received = step.grad_outputs?.[0] ?? null;
  const fan = tid ? flow?.tensorFlow.get(tid) : null;
  const fanText = fan && fan.parts.length > 1
    ? `${fan.parts.map((p) => V(p.values)).join(" + ")} = ${V(received ?? fan.sum)} (${fan.parts.length} paths meet here, so their gradients are summed)`
    : V(received);
  if (opKind(node || {}) === "accumulate") {
    const before = gradAt(tl, tid, k - 1);
    const after = gradAt(tl, tid, k);
    const acc = before && !isZero(before) && pass.call !== "grad"
      ? ` ${ctx.name(tid)}.grad already held ${V(before)}, so gradients accumulate: ${ctx.name(tid)}.grad = ${V(after)}.`
      : ` ${ctx.name(tid)}.grad = ${V(after ?? received)}.`;
    parts.push(`AccumulateGrad for leaf ${ctx.name(tid)} receives ${d(tid)} = ${fanText} and stores it in ${ctx.name(tid)}.grad.${acc}`);
    return parts.join(" ");
  }
  const fstep = tl.trace.forward.find((s) => s.node === step.node);
  const src = fstep ? quote(ctx, fstep.line) : quote(ctx, node?.line);
  const head = `${name}${src ? ` (${src})` : ""} receives ${d(tid)} = ${fanText}`;
  const sends = sendTexts(tl, ctx, node, step, fstep, d, tid);
  parts.push(sends.length ? `${head} and sends ${listWords(sends)}.` : `${head}; no input needs a gradient.`);
  const t = ctx.idx.tensors.get(tid);
  if (t?.retains_grad && !t.is_leaf) parts.push(`${ctx.name(tid)}.retain_grad() keeps it: ${ctx.name(tid)}.grad = ${V(gradAt(tl, tid, k))}.`);
  return parts.join(" ");
}

// The step of a backward call that raised: what failed, and whether the program went on.
function failedPass(tl, ctx, p, k) {
  const pass = tl.trace.backward[p];
  const err = pass.error;
  const ran = pass.steps?.length || 0;
  const call = pass.call === "grad" ? "torch.autograd.grad()" : `${pass.root ? ctx.name(pass.root) : "the output"}.backward()`;
  const where = pass.line ? ` (line ${pass.line})` : "";
  const when = ran ? ` after ${ran} node${ran === 1 ? "" : "s"} ran` : " before any node ran";
  const title = `Backward pass ${p + 1}/${tl.trace.backward.length} · failed`;
  if (tl.trace.status === "error" && k === tl.total) return { title, text: `${call}${where} fails${when}. ${ending(tl)}` };
  const next = `The program caught the error and went on${ran ? "" : "; this call changed no .grad"}.`;
  return { title, text: `${call}${where} fails${when}: ${err.type}: ${err.message} ${next}` };
}

function passIntro(ctx, pass) {
  const root = pass.root ? ctx.name(pass.root) : "the output";
  const seed = pass.gradient ? V(pass.gradient) : "1";
  const call = pass.call === "grad" ? "torch.autograd.grad()" : `${root}.backward()`;
  const named = root === "L" ? "L" : `L = ${root}`;
  return `${call}${pass.line ? ` (line ${pass.line})` : ""} starts at ${named} with dL/dL = ${seed}${pass.gradient ? " (the gradient argument)" : ""}.`;
}

function sendTexts(tl, ctx, node, step, fstep, d, tid) {
  const inputs = fstep?.inputs || [];
  const slots = (node?.next || []).map(([m], slot) => ({ m, slot, route: tl.graph.routes.get(`${step.node}#${slot}`) }));
  const names = slots.map((s) => (s.route?.via ? ctx.name(s.route.via) : null));
  const x = names[0] ?? (inputs[0] ? ctx.name(inputs[0]) : undefined);
  const y = names[1] ?? (inputs[1] ? ctx.name(inputs[1]) : savedScalar(node));
  const rules = localRule(shortNodeName(node?.name), x, y, d(tid), extras(node, inputs, ctx));
  const out = [];
  for (const s of slots) {
    const g = step.grad_inputs?.[s.slot];
    if (s.m == null || !g) continue;
    const target = s.route?.via ? d(s.route.via) : `a gradient to ${shortNodeName(tl.graph.tnodes.get(s.m)?.name)}`;
    const rule = rules?.[s.slot];
    out.push(rule ? `${target} = ${rule} = ${V(g)}` : `${target} = ${V(g)}`);
  }
  return out;
}

function savedScalar(node) {
  const other = (node?.saved || []).find((s) => s.name === "other" || s.name === "_saved_other");
  const f = other?.values ? flat(other.values) : null;
  return f && f.length === 1 ? fmtNum(f[0]) : undefined;
}

function extras(node, inputs, ctx) {
  const ex = {};
  const e = (node?.saved || []).find((s) => /exponent/.test(s.name));
  const f = e?.values ? flat(e.values) : null;
  if (f && f.length === 1) ex.exponent = f[0];
  else if (e && typeof e.value === "number") ex.exponent = e.value;
  const t = inputs[0] ? ctx.idx.tensors.get(inputs[0]) : null;
  if (t) ex.numel = numel(t.shape);
  return ex;
}
