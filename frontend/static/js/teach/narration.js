// One plain-words caption per timeline step, with the numbers ("MulBackward0 (c = a * b) receives …").
import { entryAt, flowAt, gradAt } from "../model/timeline.js";
import { fmtValues } from "../model/format.js";
import { namesOf, opKind, shortNodeName, tensorName, gradOf } from "../model/names.js";
import { isZero } from "../model/values.js";
import { chainCard } from "./chain-card.js";
import { warningsAt, cutsAt } from "../model/problems.js";
import { warningText, causeText, programText, PROGRAM_OPEN, PROGRAM_CLOSE } from "./problem-text.js";

export { programText, PROGRAM_OPEN, PROGRAM_CLOSE };
import { narrateUpdate } from "./update-narration.js";
import { fanTerms } from "./fan-terms.js";
import { narrateBlock } from "./block-narration.js";

const V = (v) => fmtValues(v, { maxItems: 6 });

/**
 * Caption for step k: { title, text }. `source` is the program text (for quoting lines); `collapsed` the view's closed
 * groups: a step whose node is drawn inside a closed module block is told at block level (teach/block-narration.js).
 */
export function narrate(tl, k, { source = "", collapsed = null } = {}) {
  const ctx = { ...context(tl, source), k };
  const e = entryAt(tl, k);
  const warned = warningsAt(tl, k).map((w) => warningText(ctx, w)).join(" ");
  const withWarnings = (n) => (warned ? { ...n, text: `${n.text} ${warned}` } : n);
  if (!e) return withWarnings(startOf(tl, ctx));
  const update = narrateUpdate(tl, k, { source }); if (update) return withWarnings(update); // parameter updates: their own module
  if (e.kind === "error") return withWarnings(failedPass(tl, ctx, e.pass, k));
  const block = collapsed ? narrateBlock(tl, k, ctx, collapsed) : null;
  if (block) return withWarnings(blockText(tl, ctx, e, k, block));
  const body = e.kind === "forward" ? forwardText(tl, ctx, e.index) : backwardText(tl, ctx, e, k);
  const title = e.kind === "forward"
    ? `Forward ${e.index + 1}/${tl.trace.forward.length}`
    : `Backward pass ${e.pass + 1}/${tl.trace.backward.length} · ${e.index + 1}/${tl.trace.backward[e.pass].steps.length}`;
  const tail = k === tl.total ? ending(tl, ctx) : "";
  return withWarnings({ title, text: tail ? `${body} ${tail}` : body });
}

// A step at block level: the pass's start and end (as at node level) around the block's own sentences.
function blockText(tl, ctx, e, k, block) {
  const tail = k === tl.total ? ending(tl, ctx) : "";
  if (e.kind === "forward") return { title: block.title, text: [...block.parts, tail].filter(Boolean).join(" ") };
  const pass = tl.trace.backward[e.pass];
  const body = withEnd(tl, ctx, e, pass, [...(e.index === 0 ? [passIntro(ctx, pass)] : []), ...block.parts]);
  return { title: block.title, text: tail ? `${body} ${tail}` : body };
}

function context(tl, source) {
  const idx = namesOf(tl.trace, source);
  const lines = String(source).split("\n");
  return { tl, source, idx, lines, name: (tid) => tensorName(tl.trace, idx, tid), quote: (line) => quote({ lines }, line) };
}

function quote(ctx, line) {
  const text = line ? (ctx.lines[line - 1] || "").trim() : "";
  if (!text) return "";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

// Step 0: ready to play, or (a program that failed before any tensor op) the error itself, headed as one.
function startOf(tl, ctx) {
  const err = tl.trace.error;
  if (tl.total || tl.trace.status !== "error" || !err) return { title: "Ready", text: intro(tl, ctx) };
  const at = err.line ? ` on line ${err.line}${ctx.quote(err.line) ? ` (${ctx.quote(err.line)})` : ""}` : "";
  if (err.kind === "syntax") {
    return { title: `Syntax error${err.line ? ` · line ${err.line}` : ""}`,
      text: `Python could not read the program, so none of it ran: ${err.type}${at}: ${message(err.message)}. Fix that line and press Run again.` };
  }
  return { title: `Error · ${err.type}`, text: intro(tl, ctx) };
}

function intro(tl, ctx) {
  const tr = tl.trace;
  const nb = tr.backward.length;
  const bsteps = tr.backward.reduce((a, p) => a + p.steps.length, 0);
  if (!tl.total) return tr.status === "error" ? `Nothing ran before the error. ${ending(tl, ctx)}` : "The program made no tensor operations.";
  return `Ready: ${tr.forward.length} forward step${tr.forward.length === 1 ? "" : "s"}, then ${nb} backward pass${nb === 1 ? "" : "es"} `
    + `(${bsteps} node${bsteps === 1 ? "" : "s"} run). Press Play or → to step through.`;
}

function ending(tl, ctx) {
  const err = tl.trace.error;
  if (tl.trace.status === "error" && err) {
    const at = err.line ? ` (line ${err.line})` : "";
    if (err.cause) return `The program stopped with ${err.type}${at}. ${causeText(ctx, err.cause)} ${message(err.message)}`;
    return `The program stopped with ${err.type}${at}. ${message(err.message)}`;
  }
  return "";
}

// torch's messages end with a debugging hint that is not about the student's program.
export function message(text) {
  return programText(String(text || "").replace(/\s*Hint: enable anomaly detection[\s\S]*$/, ""));
}

function forwardText(tl, ctx, i) {
  const s = tl.trace.forward[i];
  const text = forwardCore(tl, ctx, i);
  return s.transform ? `${text} ${transformNote(s.transform, s.values)}` : text;
}

// Inside torch.func: what the values are and where the gradient goes (never into .grad).
function transformNote(transform, values) {
  const n = (values || []).find((v) => v?.vmap)?.vmap;
  const parts = [`(Inside torch.func.${transform}:`];
  if (/vmap/.test(transform)) parts.push(n ? `one function call for each of ${n} samples; the values shown are all ${n} samples', stacked on a first dimension.` : "one function call per sample.");
  if (/grad/.test(transform)) parts.push("torch.func.grad differentiates this function itself and returns the gradient; no .grad is filled.");
  return `${parts.join(" ")})`;
}

function forwardCore(tl, ctx, i) {
  const s = tl.trace.forward[i];
  const src = quote(ctx, s.line);
  const where = `${s.module ? `[${s.module}] ` : ""}${s.line ? `Line ${s.line}` : "Step"}${src ? `: ${src}` : ""}`;
  const outs = (s.outputs || []).map((o, j) => `${ctx.name(o)} = ${V(s.values?.[j] ?? ctx.idx.tensors.get(o)?.data)}`).join(", ");
  const first = (s.inputs || [])[0];
  const special = kindText(ctx, s, first, outs);
  if (special) return `${where} ${special}`;
  if (!(s.outputs || []).length) return `${where} ${resultText(ctx, s)}`;
  if (s.kind === "inplace" && s.node != null) return `${where} ${inplaceText(tl, ctx, s, outs)}`;
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
  const o = (s.outputs || [])[0];
  const t = ctx.idx.tensors.get(o);
  const leafNote = ` It is a leaf that requires grad, so backward will fill ${ctx.name(o)}.grad.`;
  if (!(s.inputs || []).length || isFactory(s.op)) {
    return `${where} creates ${outs}.${t?.requires_grad && t?.is_leaf ? leafNote : ""}`;
  }
  if (s.op === "Variable" && t?.requires_grad && t?.is_leaf && !(s.inputs || []).includes(o)) {
    return `${where} → ${outs}: Variable(…, requires_grad=True) gives a new tensor with the same numbers, not made by any recorded op.${leafNote}`;
  }
  let why;
  if (!s.grad_enabled) why = "gradient tracking is off here (torch.no_grad()), so autograd records nothing";
  else if (/detach/.test(s.op)) why = "detach() cuts the result out of the graph: no gradient flows back through it";
  else if ((s.inputs || []).some((x) => ctx.idx.tensors.get(x)?.requires_grad)) {
    why = NON_DIFF.test(s.op) ? `${s.op} has no gradient (its result is ${t?.dtype ?? "not a float"}), so autograd records nothing`
      : "autograd recorded no new node for it (its result has no grad_fn of its own)";
  } else why = "no input requires grad, so autograd records nothing";
  return `${where} → ${outs}. Not tracked: ${why}.`;
}

const NON_DIFF = /^(lt|le|gt|ge|eq|ne|argmax|argmin|sign|isnan|isinf|logical_\w+|floor|ceil|round)$/;

// Calls whose answer is not a tensor (gradcheck's True/False) and calls with no tensor result.
function resultText(ctx, s) {
  const args = (s.inputs || []).map((x) => ctx.name(x));
  const call = `${s.op}(${args.join(", ")})`;
  if (/^grad(grad)?check$/.test(s.op) && s.result != null) {
    const ok = s.result === "True";
    const c = s.check || {};
    const runs = c.backward_calls ? ` It runs ${c.backward_calls} backward calls of its own (torch.autograd.grad, to build the analytical Jacobian; none is shown here as a pass)` : "";
    const tol = c.eps != null ? `${runs ? ", " : " It "}nudges each input element by eps = ${c.eps} and accepts |numerical − analytical| ≤ atol + rtol·|numerical| with atol = ${c.atol}, rtol = ${c.rtol}` : "";
    return `${call} compares the backward of the function with finite differences on ${listWords(args)}.${runs}${tol}${runs || tol ? "." : ""} It returns ${s.result}`
      + ` (${ok ? "the analytic gradients match the numerical ones" : "the gradients do NOT match: the backward formula is wrong"}).`;
  }
  return s.result != null ? `${call} returns ${s.result}.` : `${call} runs; it makes no new tensor.`;
}

// An in-place op on a tensor that needs grad: autograd gives it (and a base it is a view of) a new grad_fn.
function inplaceText(tl, ctx, s, outs) {
  const node = tl.graph.tnodes.get(s.node);
  const [own, ...bases] = s.outputs || [];
  const parts = [`→ ${outs}. In place: autograd records ${shortNodeName(node?.name)} as ${ctx.name(own)}'s new grad_fn`];
  for (const b of bases) {
    const bt = ctx.idx.tensors.get(b);
    const bfn = bt?.grad_fn ? shortNodeName(tl.graph.tnodes.get(bt.grad_fn)?.name) : null;
    parts.push(`${ctx.name(own)} is a view of ${ctx.name(b)}, so ${ctx.name(b)} changes too${bfn ? ` and its history becomes ${bfn}` : ""}`);
  }
  const bumped = (s.bumps || []).map((x) => ctx.name(x));
  const ver = bumped.length ? ` This raises the _version of ${listWords(bumped)}: a backward that needs an older value will refuse to run.` : "";
  return `${parts.join("; ")}.${ver}`;
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
  if (s.op === "register_hook") return `registers a hook on ${nm}: during backward it sees ${gradOf(nm)} and may replace it.`;
  if (s.op === "grad.set") return `sets ${nm}.grad = ${s.values?.[0] ? V(s.values[0]) : "None"}, so the next backward starts ${nm}.grad afresh.`;
  if (s.kind === "optim") return `— the optimizer updates ${nm} in place from its .grad → ${outs}. Not tracked: optimizers work under torch.no_grad().`;
  if (s.kind === "alias") return `→ ${outs}: .data shares ${nm}'s numbers but has no autograd history (like detach()).`;
  if (s.op === "requires_grad_" && /grad/.test(s.transform || "")) {
    return "→ torch.func.grad marks its own copy of the argument it differentiates as requiring grad: the gradient comes back as grad(…)'s result; no .grad is filled.";
  }
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
  const parts = [];
  if (e.index === 0) parts.push(passIntro(ctx, pass));
  for (const h of step.hooks || []) {
    parts.push(h.grad_out ? `A hook on ${ctx.name(h.tensor)} runs and turns its gradient ${V(h.grad_in)} into ${V(h.grad_out)}.`
      : `A hook on ${ctx.name(h.tensor)} runs, sees its gradient ${V(h.grad_in)} and leaves it unchanged.`);
  }
  const name = shortNodeName(node?.name);
  const tid = node?.tensor;
  const received = step.grad_outputs?.[0] ?? null;
  const fan = tid ? flow?.tensorFlow.get(tid) : null;
  const fanText = fan && fan.parts.length > 1
    ? `${fanTerms(fan.parts, V)} = ${V(received ?? fan.sum)} (${fan.parts.length} paths meet here, so their gradients are summed)`
    : V(received);
  if (opKind(node || {}) === "accumulate") {
    const before = gradAt(tl, tid, k - 1);
    const after = gradAt(tl, tid, k);
    const acc = before && !isZero(before) && pass.call !== "grad"
      ? ` ${ctx.name(tid)}.grad already held ${V(before)}, so gradients accumulate: ${ctx.name(tid)}.grad = ${V(after)}.`
      : ` ${ctx.name(tid)}.grad = ${V(after ?? received)}.`;
    parts.push(`AccumulateGrad for leaf ${ctx.name(tid)} receives ${gradOf(ctx.name(tid))} = ${fanText} and stores it in ${ctx.name(tid)}.grad.${acc}`);
    return withEnd(tl, ctx, e, pass, parts);
  }
  const fstep = tl.trace.forward.find((s) => s.node === step.node);
  const src = fstep ? quote(ctx, fstep.line) : quote(ctx, node?.line);
  const head = `${name}${src ? ` (${src})` : ""} receives ${receivedText(tl, ctx, node, step, fstep, fanText)}`;
  if (step.grad_inputs == null) { // the node started but never finished: it raised
    parts.push(`${head} and raises an error before sending anything.`);
    return withEnd(tl, ctx, e, pass, parts);
  }
  const { sends, defs } = sendTexts(tl, ctx, k);
  parts.push(sends.length ? `${head} and sends ${listWords(sends)}.` : `${head}; none of its inputs needs a gradient, so it sends nothing on.`);
  if (defs.length) parts.push(`Here ${listWords(defs)}.`);
  const t = ctx.idx.tensors.get(tid);
  if (t?.retains_grad && !t.is_leaf) parts.push(`${ctx.name(tid)}.retain_grad() keeps it: ${ctx.name(tid)}.grad = ${V(gradAt(tl, tid, k))}.`);
  return withEnd(tl, ctx, e, pass, parts);
}

// The last step of a pass: what torch.autograd.grad() returns, or that create_graph recorded a graph.
function withEnd(tl, ctx, e, pass, parts) {
  if (e.index !== pass.steps.length - 1) return parts.join(" ");
  if (pass.call === "grad" && (pass.results || []).length) {
    const res = pass.results.map((r) => `${ctx.name(r)} = ${V(ctx.idx.tensors.get(r)?.data)}`);
    parts.push(pass.transform ? `torch.func.${pass.transform} hands back ${listWords(res)} as its result (every .grad stays as it was).`
      : `torch.autograd.grad() returns ${listWords(res)} (and leaves every .grad as it was).`);
  }
  if (pass.create_graph && !pass.transform) parts.push("With create_graph=True this backward was itself recorded, so its result can be differentiated again.");
  for (const c of cutsAt(tl, ctx.k)) {
    const how = c.why === "detach" ? "detach()" : "torch.no_grad()";
    parts.push(`${ctx.name(c.tensor)}.grad stays None: ${ctx.name(c.tensor)} requires grad, but its use on line ${c.line} went through ${how}, which autograd does not record, so no path leads back to it.`);
  }
  return parts.join(" ");
}

// What a node received: its output tensor's gradient, one per output of a multi-output op, or (for nodes
// autograd made inside one call, e.g. TBackward0 in nn.Linear) what the node that feeds it sent.
function receivedText(tl, ctx, node, step, fstep, fanText) {
  const outs = step.grad_outputs || [];
  if (outs.length > 1) {
    const names = outs.map((_, i) => outputName(tl, ctx, node, fstep, i));
    return listWords(outs.map((g, i) => `${names[i] ? gradOf(names[i]) : `the gradient of output ${i}`} = ${g ? V(g) : "None (that output was not used)"}`));
  }
  const own = outputName(tl, ctx, node, fstep, 0);
  if (own) return `${gradOf(own)} = ${fanText}`;
  const from = senders(tl, step.node).map((m) => shortNodeName(tl.graph.tnodes.get(m)?.name));
  return `the gradient ${V(outs[0] ?? null)}${from.length ? ` from ${listWords([...new Set(from)])}` : ""}`;
}

function outputName(tl, ctx, node, fstep, i) {
  const tid = fstep?.outputs?.[i] ?? (i === 0 ? node?.tensor : null);
  return tid ? ctx.name(tid) : null;
}

function senders(tl, nodeId) {
  return [...tl.graph.tnodes.values()].filter((n) => (n.next || []).some(([m]) => m === nodeId)).map((n) => n.id);
}

// The step of a backward call that raised: what failed, why (the tracer's Error.cause), and whether the program went on.
function failedPass(tl, ctx, p, k) {
  const pass = tl.trace.backward[p];
  const err = pass.error;
  const steps = pass.steps || [];
  const raised = steps.find((s) => s.grad_inputs == null);
  const ran = steps.filter((s) => s.grad_inputs != null).length;
  const call = pass.call === "grad" ? "torch.autograd.grad()" : `${pass.root ? ctx.name(pass.root) : "the output"}.backward()`;
  const where = pass.line ? ` (line ${pass.line})` : "";
  const raiser = raised ? `: ${shortNodeName(tl.graph.tnodes.get(raised.node)?.name)} raised` : "";
  const when = `${ran ? ` after ${ran} node${ran === 1 ? "" : "s"} ran` : " before any node ran"}${raiser}`;
  const title = `Backward pass ${p + 1}/${tl.trace.backward.length} · failed`;
  const why = err?.cause ? ` ${causeText(ctx, err.cause)}` : "";
  if (tl.trace.status === "error" && k === tl.total) return { title, text: `${call}${where} fails${when}. ${ending(tl, ctx)}` };
  const next = `The program caught the error and went on${ran ? "" : "; this call changed no .grad"}.`;
  return { title, text: `${call}${where} fails${when}.${why} ${err.type}: ${message(err.message)} ${next}` };
}

function passIntro(ctx, pass) {
  const root = pass.root ? ctx.name(pass.root) : "the output";
  if (pass.transform && /grad/.test(pass.transform)) {
    const per = /vmap/.test(pass.transform) ? ", for every sample at once (vmap)" : "";
    return `torch.func.${pass.transform}${pass.line ? ` (line ${pass.line})` : ""} differentiates the function's output L = ${root} with dL/dL = 1${per}: `
      + "it calls torch.autograd.grad itself and returns the gradient as its result; no .grad is filled.";
  }
  const call = pass.call === "grad" ? "torch.autograd.grad()" : `${root}.backward()`;
  const at = `${call}${pass.line ? ` (line ${pass.line})` : ""}`;
  if (pass.gradient) {
    return `${at} is given gradient=v = ${V(pass.gradient)}: it computes the vector-Jacobian product vᵀ·J, so it starts at ${root} with `
      + `v in place of ${gradOf(root)} (as if L = sum(v * ${root})).`;
  }
  const named = root === "L" ? "L" : `L = ${root}`;
  const keep = pass.call === "grad" ? " It returns the gradients instead of adding them into .grad." : "";
  return `${at} starts at ${named} with dL/dL = 1.${keep}`;
}

// What each input gets: "dL/dx = <formula> = <numbers>" where the formula, evaluated on the saved values, gives the
// engine's numbers (the chain-rule card checks it); only the numbers where it cannot be checked or disagrees.
function sendTexts(tl, ctx, k) {
  const card = chainCard(tl, k, { source: ctx.source }) // one card per step, shared with the stage;
  const sends = [], defs = [];
  for (const r of card?.rows || []) {
    if (!r.sent) continue;
    const shown = r.status === "checked" && card.kind !== "custom";
    sends.push(shown ? `${r.target} = ${r.send} = ${V(r.sent)}` : `${r.target} = ${V(r.sent)}`);
    if (shown) for (const d of r.defs || []) if (!defs.includes(d)) defs.push(d);
  }
  return { sends, defs };
}


