// Warnings and error causes, each placed on the timeline step that caused it.

/** Step k (1-based) of forward step i, and the last step of each backward pass. */
function index(tl) {
  if (tl._problems) return tl._problems;
  const fwdK = [];
  tl.entries.forEach((e, i) => { if (e.kind === "forward") fwdK[e.index] = i + 1; });
  const passEnd = tl.passRange.map((r, p) => r.end ?? afterK(tl, fwdK, tl.positions[p] + 1, 0));
  const out = { fwdK, passEnd, byK: new Map() };
  tl._problems = out;
  (tl.trace.warnings || []).forEach((w, i) => {
    const k = warningK(tl, out, w);
    if (!out.byK.has(k)) out.byK.set(k, []);
    out.byK.get(k).push({ ...w, index: i, k });
  });
  return out;
}

// The step right after `nf` forward steps and `nb` backward passes ran.
function afterK(tl, fwdK, nf, nb) {
  let k = nf > 0 ? fwdK[Math.min(nf, fwdK.length) - 1] ?? 0 : 0;
  for (let p = 0; p < nb && p < tl.passRange.length; p++) k = Math.max(k, tl.passRange[p].end ?? 0);
  return k;
}

/** The step at which a warning shows (its op, its backward pass, where it was raised, else its line). */
export function warningK(tl, ix, w) {
  const tr = tl.trace;
  if (Number.isInteger(w.step) && ix.fwdK[w.step]) return ix.fwdK[w.step];
  if (Number.isInteger(w.pass) && ix.passEnd[w.pass] != null) return ix.passEnd[w.pass];
  if (Number.isInteger(w.after_forward)) return afterK(tl, ix.fwdK, w.after_forward, w.after_backward ?? 0);
  if (w.line != null) {
    const i = (tr.forward || []).findIndex((s) => s.line === w.line);
    if (i >= 0) return ix.fwdK[i];
    const p = (tr.backward || []).findIndex((b) => b.line === w.line);
    if (p >= 0 && ix.passEnd[p] != null) return ix.passEnd[p];
  }
  return tl.total;
}

/** Warnings raised by the step k itself. */
export function warningsAt(tl, k) {
  return index(tl).byK.get(k) || [];
}

/** Every warning with the step it belongs to (for marks on the scrubber and the graph). */
export function allWarnings(tl) {
  return [...index(tl).byK.values()].flat().sort((a, b) => a.k - b.k);
}

/**
 * At the last step of a backward pass: leaves that require grad but still have no .grad because every use of
 * them before the pass was cut off the graph (detach, torch.no_grad). [{tensor, step, line, why}]
 */
export function cutsAt(tl, k) {
  const e = k >= 1 && k <= tl.total ? tl.entries[k - 1] : null;
  if (!e || e.kind === "forward") return [];
  const pass = tl.trace.backward[e.pass];
  if (e.kind === "backward" && e.index !== pass.steps.length - 1) return [];
  const before = Number.isInteger(pass.after_forward) ? pass.after_forward : tl.positions[e.pass] + 1;
  const forward = (tl.trace.forward || []).slice(0, before);
  const feeds = feedsRoot(forward, pass.root);
  const out = [];
  for (const t of tl.graph.tensors.values()) {
    if (!t.is_leaf || !t.requires_grad || t.grad_of || gradAfter(tl, t.id, k)) continue;
    const uses = forward.map((s, i) => [s, i]).filter(([s]) => (s.inputs || []).includes(t.id) && !(s.outputs || []).includes(t.id) && s.kind !== "hook" && s.kind !== "annotate");
    if (!uses.length || uses.some(([s]) => s.node != null)) continue; // a recorded use: backward could have reached it
    // Only a cut whose result flows into this pass's root kept the pass from the leaf; a leaf used elsewhere under
    // no_grad (a reference model, an EMA copy) was simply not in this graph.
    const [s, i] = uses.find(([u]) => (!u.grad_enabled || /detach/.test(u.op)) && (u.outputs || []).some((o) => feeds.has(o))) ?? [];
    if (s) out.push({ tensor: t.id, step: i, line: s.line ?? null, why: s.grad_enabled ? "detach" : "no_grad" });
  }
  return out;
}

/** Tensors whose values flow into `root` through these forward steps, recorded by autograd or not. */
function feedsRoot(forward, root) {
  const feeds = new Set(root ? [root] : []);
  for (let i = forward.length - 1; i >= 0; i--) {
    const s = forward[i];
    if ((s.outputs || []).some((o) => feeds.has(o))) for (const x of s.inputs || []) feeds.add(x);
  }
  return feeds;
}

function gradAfter(tl, tid, k) {
  const list = tl.gradWrites.get(tid) || [];
  let v = null;
  for (const w of list) if (w.k <= k) v = w.v;
  return k >= tl.total ? tl.graph.tensors.get(tid)?.grad ?? null : v;
}

/**
 * The error shown at step k: a failed backward call's step, or the program's error at the last step.
 * {error, cause, pass} where cause is the tracer's Error.cause (null when it gave none).
 */
export function causeAt(tl, k) {
  const e = k >= 1 && k <= tl.total ? tl.entries[k - 1] : null;
  if (e?.kind === "error") {
    const err = tl.trace.backward[e.pass].error;
    return { error: err, cause: err?.cause ?? null, pass: e.pass };
  }
  const err = tl.trace.error;
  if (tl.trace.status === "error" && err && k === tl.total) return { error: err, cause: err.cause ?? null, pass: null };
  return null;
}
