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
  if (c.kind === "leaf_inplace") {
    const w = t ?? c.names?.[0] ?? "a leaf";
    const at = by ? `${by[0].toUpperCase()}${by.slice(1)} would change ${w} in place` : `An in-place operation would change ${w}`;
    return `Why: ${w} is a leaf that requires grad: autograd computes ${w}.grad, the gradient with respect to ${w} itself. `
      + `${at}: an operation on ${w}'s own value that autograd would have to record as ${w}'s history, and a leaf has none, so torch refuses. `
      + `To update it as an optimizer does (${w} -= lr * ${w}.grad), put the line under \`with torch.no_grad():\`; for a new value, make a new tensor (${w}_new = ${w} + 1).`;
  }
  if (c.kind === "shape") return `Why: ${shapeText(ctx, c)}`;
  return "";
}

const dims = (s) => `[${s.join(", ")}]`;

// A shape mismatch in words: which sizes had to agree, and which did not.
function shapeText(ctx, c) {
  const names = (c.shapes || []).map((_, i) => (c.tensors?.[i] ? ctx.name(c.tensors[i]) : c.names?.[i] ?? `operand ${i + 1}`));
  const shapes = c.shapes || [];
  const where = c.line ? `line ${c.line}${ctx.quote(c.line) ? ` (${ctx.quote(c.line)})` : ""}` : "the failing line";
  const listed = names.map((n, i) => `${n} is ${dims(shapes[i])}`).join(", ");
  for (let i = 0; i + 1 < shapes.length; i++) {
    const [a, b] = [shapes[i], shapes[i + 1]], [na, nb] = [names[i], names[i + 1]];
    if (c.op === "matmul") {
      const k = a[a.length - 1], r = b.length === 1 ? b[0] : b[b.length - 2];
      if (a.length && b.length && k !== r) {
        const bSide = b.length === 1 ? `${nb}'s length (${r})` : `${nb}'s size at dim -2 (${r})`;
        const flip = a.length === 2 && a[0] === r ? ` ${na}ᵀ is ${dims([a[1], a[0]])}, so ${na}.T @ ${nb} would fit — check which dim holds the features (nn.Linear keeps its weight as [out, in] and computes x @ W.T).` : "";
        return `on ${where}, ${listed}. ${na} @ ${nb} multiplies rows of ${na} with columns of ${nb}: ${na}'s last size (${k}) must equal ${bSide}, and ${k} ≠ ${r}.${flip}`;
      }
    } else {
      const n = Math.max(a.length, b.length);
      for (let d = 1; d <= n; d++) {
        const x = a[a.length - d] ?? 1, y = b[b.length - d] ?? 1;
        if (x !== y && x !== 1 && y !== 1) {
          return `on ${where}, ${listed}. Element-wise ops line shapes up from the right, and each pair of sizes must be equal or 1 (a size 1 is copied): `
            + `at dim ${-d} ${na} has ${x} and ${nb} has ${y}.`;
        }
      }
    }
  }
  return `on ${where}, ${listed}: these shapes do not fit together for this operation.`;
}
