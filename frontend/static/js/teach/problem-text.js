// Plain words for warnings and for why a backward call failed (the tracer's Error.cause).
import { shortNodeName } from "../model/names.js";

// Around text the program wrote (an error message): the page shows it framed and labelled as the program's
// (view/marked-text.js); the first-strong-isolate pair also keeps its bidi controls from reordering the sentence.
export const PROGRAM_OPEN = "\u2068", PROGRAM_CLOSE = "\u2069";

export function programText(text) {
  return PROGRAM_OPEN + String(text).replaceAll(PROGRAM_OPEN, "\uFFFD").replaceAll(PROGRAM_CLOSE, "\uFFFD") + PROGRAM_CLOSE;
}

const NON_LEAF = /\.grad attribute of a Tensor that is not a leaf/;

/** One warning, said at the step that raised it. `ctx` = narration context {tl, name, quote}. */
export function warningText(ctx, w) {
  const where = w.line ? ` (line ${w.line}${ctx.quote(w.line) ? `: ${ctx.quote(w.line)}` : ""})` : "";
  if (NON_LEAF.test(w.message)) {
    const t = w.tensor ? ctx.name(w.tensor) : "this tensor";
    return `⚠ Warning${where}: ${t}.grad is read, but ${t} is not a leaf, so backward did not store its gradient there: ${t}.grad is None. `
      + `Call ${t}.retain_grad() before backward to keep it, or read the leaf's .grad instead.`;
  }
  return `⚠ ${w.category || "Warning"}${where}: ${programText(firstSentences(w.message))}`;
}

function firstSentences(text) {
  const s = String(text || "").replace(/\s*\(Triggered internally at[^)]*\)\.?/, "").trim();
  return s.length > 400 ? `${s.slice(0, 400).replace(/\s+\S*$/, "")} … (the whole message is in the warnings list)` : s;
}

/** Why a backward call failed, naming the node, the saved tensor and the line to blame. */
export function causeText(ctx, c) {
  const tl = ctx.tl;
  const node = c.node ? tl.graph.tnodes.get(c.node) : null;
  const nodeName = node ? shortNodeName(node.name) : "a node";
  const made = node?.line ? ` (made on line ${node.line}${ctx.quote(node.line) ? `: ${ctx.quote(node.line)}` : ""})` : "";
  const t = c.tensor ? ctx.name(c.tensor) : null;
  const step = Number.isInteger(c.step) ? tl.trace.forward[c.step] : null;
  const by = c.line ? `line ${c.line}${ctx.quote(c.line) ? ` (${ctx.quote(c.line)})` : ""}` : null;
  if (c.kind === "inplace") {
    const saved = c.saved ? `its saved ${c.saved}${t ? ` (${t})` : ""}` : `a tensor it saved${t ? ` (${t})` : ""}`;
    return `Why: ${nodeName}${made} needs ${saved} for backward. It was saved at version ${c.saved_version}, but it is now at version `
      + `${c.current_version}: ${by ? `${by} changed it in place${step ? ` (${step.op})` : ""}` : "an in-place operation changed it"} after it was saved, `
      + "so the value backward needs is gone and autograd refuses to compute a wrong gradient. Change a copy instead (e.g. y = y + 1), or do the in-place change after backward.";
  }
  if (c.kind === "freed") {
    const saved = c.saved ? `what it saved (${c.saved}${t ? ` = ${t}` : ""})` : "the tensors it saved";
    return `Why: ${nodeName}${made} needs ${saved}, but ${by ? `the backward call on ${by}` : "an earlier backward call"} already freed them: `
      + "backward frees a graph's saved tensors unless it is called with retain_graph=True. Pass retain_graph=True to the first backward to run backward twice, or run the forward again.";
  }
  if (c.kind === "no_grad_fn") {
    const cut = c.why === "detach" ? `${by ?? "a detach()"} cut it out of the graph with detach()`
      : c.why === "no_grad" ? `${by ?? "a step"} ran under torch.no_grad(), so nothing was recorded`
        : "no tensor it was computed from requires grad";
    return `Why: ${t ?? "the tensor"} does not require grad and has no grad_fn: ${cut}, so there is no path back to any leaf and no leaf's .grad can be filled.`;
  }
  return "";
}
