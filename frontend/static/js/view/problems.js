// Errors and warnings on the graph: the node that raised, the tensor to blame (with its versions) and a
// tag saying why, redrawn for every step from the state alone (no mark outlives its step).
import { textWidth } from "../layout/sizes.js";
import { shortNodeName } from "../model/names.js";

/** `find(key)` → {el, p} of a drawn node or null. */
export function markProblems(layer, find, graph, state) {
  layer.selectAll(".problem-tag").remove();
  layer.selectAll(".node.problem, .node.warned").classed("problem", false).classed("warned", false);
  const tags = [];
  const c = state.problem?.cause;
  if (c) {
    if (c.node) tags.push([`n:${c.node}`, "problem", causeTag(c, graph)]);
    if (c.kind === "shape") (c.tensors || []).forEach((t, i) => t && tags.push([tensorKey(graph, t), "problem", `✖ shape [${(c.shapes?.[i] ?? []).join(", ")}]`]));
    else if (c.tensor) tags.push([tensorKey(graph, c.tensor), "problem", tensorTag(c)]);
  }
  for (const c of state.cuts || []) tags.push([tensorKey(graph, c.tensor), "warned", `✂ .grad None: ${c.why === "detach" ? "detach()" : "no_grad"}${c.line ? ` on line ${c.line}` : ""}`]);
  for (const w of state.warnings || []) if (w.tensor) tags.push([tensorKey(graph, w.tensor), "warned", /not a leaf/.test(w.message) ? "⚠ .grad is None: not a leaf" : "⚠ warning"]);
  for (const [key, cls, text] of tags) {
    const item = key && find(key);
    if (!item) continue;
    item.el.classed(cls, true);
    if (!text) continue;
    const w = textWidth(text, 11, false) + 14;
    const x = w > item.p.width ? 0 : (item.p.width - w) / 2; // wide tags start at the box's left edge
    const y = key.startsWith("n:") ? item.p.height + 4 : -22; // autograd nodes: under the pill; tensors: above the box
    const tag = item.el.append("g").attr("class", `problem-tag ${cls}`).attr("transform", `translate(${x},${y})`);
    tag.append("rect").attr("width", w).attr("height", 18).attr("rx", 9);
    tag.append("text").attr("x", 7).attr("y", 13).text(text);
  }
}

function tensorKey(graph, tid) {
  if (graph.nodes.has(`t:${tid}`)) return `t:${tid}`;
  const owner = graph.tensors.get(tid)?.grad_of;
  return owner && graph.nodes.has(`t:${owner}`) ? `t:${owner}` : null;
}

function causeTag(c, graph) {
  if (c.kind === "inplace") return `✖ needs ${c.saved ?? "a saved tensor"} at version ${c.saved_version}`;
  if (c.kind === "freed") return "✖ saved tensors already freed";
  return `✖ ${shortNodeName(graph.tnodes.get(c.node)?.name)} failed`;
}

function tensorTag(c) {
  if (c.kind === "inplace") return `version ${c.saved_version} → ${c.current_version}${c.line ? ` (line ${c.line})` : ""}`;
  if (c.kind === "freed") return c.line ? `freed by backward on line ${c.line}` : "freed";
  if (c.kind === "no_grad_fn") return c.line ? `no grad_fn: cut on line ${c.line}` : "no grad_fn";
  if (c.kind === "leaf_inplace") return `✖ in-place change of a leaf${c.line ? ` (line ${c.line})` : ""}`;
  return "";
}
