// Live edit: after a re-run of an edited program, stay where you were when the same line and op still exist
// (Python Tutor's live mode). A step is known by (kind, the text of its line, its op) and which occurrence it is.
import { lineOf } from "./timeline.js";

/** Every step's signature (index k-1): what survives an edit elsewhere (the line's text, not its number). */
function signatures(tl, source) {
  const lines = source ? source.split("\n") : null;
  return tl.entries.map((e, i) => {
    const n = lineOf(tl, e);
    const text = n && lines ? (lines[n - 1] ?? "").trim() : `#${n}`;
    if (e.kind === "forward") return `f|${text}|${tl.trace.forward[e.index].op}`;
    if (e.kind === "error") return `e|${text}`;
    const node = tl.graph.tnodes.get(tl.trace.backward[e.pass].steps[e.index].node);
    return `b|${text}|${node?.name ?? "?"}`;
  });
}

/** Each signature's nth occurrence → step number. */
function occurrences(sigs) {
  const seen = new Map(), occ = [];
  sigs.forEach((s) => { const n = seen.get(s) ?? 0; occ.push(n); seen.set(s, n + 1); });
  return occ;
}

/**
 * The step of the new run that matches step k of the old one: the same signature at the same occurrence;
 * else the match of the nearest earlier step that still exists; else null (nothing to keep: the page's default).
 */
export function carryStep(oldTl, oldSource, k, newTl, newSource) {
  if (!oldTl || !newTl || !(k > 0)) return null;
  const want = new Map(); // signature → [step of occurrence 0, 1, …] in the new run
  signatures(newTl, newSource).forEach((s, i) => { if (!want.has(s)) want.set(s, []); want.get(s).push(i + 1); });
  const old = signatures(oldTl, oldSource), occ = occurrences(old);
  for (let j = Math.min(k, oldTl.total); j >= 1; j--) {
    const hit = want.get(old[j - 1])?.[occ[j - 1]];
    if (hit !== undefined) return hit;
  }
  return null;
}
