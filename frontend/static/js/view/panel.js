// The details panel: everything the trace says about one clicked node, at the current step. Text only.
import * as d3 from "../../vendor/d3.js";
import { fmtValues, fmtShape, fmtStats, fmtItems } from "../model/format.js";
import { shortNodeName, tensorName, namesOf, tiedText } from "../model/names.js";

/**
 * Fill `body` (a DOM element) with the details of drawable node `key`.
 * ctx = { graph, trace, state, source, onSelect(key) }
 */
export function renderPanel(body, key, ctx) {
  const el = d3.select(body);
  el.selectAll("*").remove();
  const d = ctx.graph.nodes.get(key);
  if (!d) return;
  const names = namesOf(ctx.trace, ctx.source);
  const nm = (tid) => tensorName(ctx.trace, names, tid);
  if (d.type === "tensor") tensorPanel(el, d, ctx, nm);
  else opPanel(el, d, ctx, nm);
}

function tensorPanel(el, d, ctx, nm) {
  const t = d.tensor;
  el.append("h3").text(nm(t.id));
  el.append("div").attr("class", "kind").text(KIND_TEXT[d.kind] ?? d.kind);
  if (t.tied?.length) el.append("p").attr("class", "note tied").text(tiedText(t)); // weight tying: one tensor, two paths
  const rows = [
    ["shape", fmtShape(t.shape)], ["dtype", t.dtype], ["requires_grad", String(t.requires_grad)],
    ["is_leaf", String(t.is_leaf)], ["retains_grad", String(t.retains_grad)],
  ];
  const dl = facts(el, rows);
  if (t.grad_fn) link(dl, "grad_fn", shortNodeName(ctx.graph.tnodes.get(t.grad_fn)?.name), `n:${t.grad_fn}`, ctx);
  else fact(dl, "grad_fn", "None");
  const line = t.line ?? ctx.trace.forward.find((s) => (s.outputs || []).includes(t.id))?.line;
  if (line) fact(dl, "line", `${line}: ${(ctx.source.split("\n")[line - 1] || "").trim()}`);
  const st = ctx.state;
  if (!st.visible(d.key)) el.append("p").attr("class", "note").text("Not created yet at this step.");
  section(el, "data (at this step)", st.data(t.id));
  const grad = st.grad(t.id);
  section(el, ".grad (at this step)", grad, "grad-title", grad ? null : "None");
  const flow = st.flow?.tensorFlow.get(t.id);
  if (flow) {
    section(el, "gradient arriving in this backward pass", flow.sum, "grad-title");
    if (flow.parts.length > 1) {
      const ul = el.append("ul");
      for (const p of flow.parts) ul.append("li").text(`${fmtValues(p.values)} from ${p.from ? shortNodeName(ctx.graph.tnodes.get(p.from)?.name) : "the start"}`);
      el.append("p").attr("class", "note").text("Several paths reach this tensor: autograd sums their gradients.");
    }
  }
  if (st.k < st.total) {
    section(el, "data when the program ended", t.data);
    section(el, ".grad when the program ended", t.grad, "grad-title", t.grad ? null : "None");
  }
}

const KIND_TEXT = {
  leaf: "leaf tensor that requires grad: backward fills its .grad",
  intermediate: "intermediate tensor (made by a recorded op)",
  output: "output tensor",
  constant: "tensor without gradient tracking",
  grad: "a .grad tensor",
};

function opPanel(el, d, ctx, nm) {
  const n = d.node;
  el.append("h3").text(shortNodeName(n.name));
  const kind = d.kind === "accumulate" ? "AccumulateGrad: adds the incoming gradient into a leaf's .grad"
    : d.kind === "custom" ? "backward of a custom autograd Function" : "autograd node (grad_fn)";
  el.append("div").attr("class", "kind").text(d.hidden && d.kind !== "accumulate" ? `${kind}; created inside a library call` : kind);
  const dl = facts(el, [["name()", n.name]]);
  if (d.op) fact(dl, "forward op", d.op);
  if (n.tensor) link(dl, d.kind === "accumulate" ? "leaf" : "output", nm(n.tensor), `t:${n.tensor}`, ctx);
  if (n.line) fact(dl, "line", `${n.line}: ${(ctx.source.split("\n")[n.line - 1] || "").trim()}`);
  if ((n.next || []).length) {
    el.append("h4").text("next_functions (where its gradients go)");
    const ul = el.append("ul");
    n.next.forEach(([m, nr], slot) => {
      const li = ul.append("li");
      if (m == null) { li.text(`${slot}: None (input needs no gradient)`); return; }
      const via = ctx.graph.routes.get(`${n.id}#${slot}`)?.via;
      li.append("button").attr("class", "link").text(shortNodeName(ctx.graph.tnodes.get(m)?.name))
        .on("click", () => ctx.onSelect(`n:${m}`));
      li.append("span").text(`${via ? ` via ${nm(via)}` : ""}${nr ? ` (output ${nr})` : ""}`);
    });
  }
  if ((n.saved || []).length) {
    el.append("h4").text("saved for backward");
    for (const s of n.saved) {
      const title = s.tensor ? `${s.name} = ${nm(s.tensor)}` : s.name;
      if (s.values) section(el, title, s.values, "saved");
      else el.append("div").attr("class", "note").text(`${title}${s.repr ? ` = ${s.repr}` : ""}`);
    }
  }
  const ran = ranIn(ctx, n.id);
  if (ran) {
    el.append("h4").attr("class", "grad-title").text(`in backward pass ${ran.pass + 1}`);
    (ran.step.grad_outputs || []).forEach((v, i) => section(el, `received (grad_outputs[${i}])`, v, "grad-title"));
    (ran.step.grad_inputs || []).forEach((v, i) => v && section(el, `sent (grad_inputs[${i}])`, v, "grad-title"));
    for (const h of ran.step.hooks || []) el.append("p").attr("class", "note").text(`hook on ${nm(h.tensor)}: ${fmtValues(h.grad_in)} → ${fmtValues(h.grad_out)}`);
  }
}

// The latest run of this node in the current pass (or the last pass before this step).
function ranIn(ctx, nodeId) {
  const st = ctx.state;
  if (!st.flow?.done.has(nodeId)) return null;
  const pass = ctx.trace.backward[st.flow.pass];
  const upto = st.entry.index;
  for (let j = upto; j >= 0; j--) if (pass.steps[j].node === nodeId) return { pass: st.flow.pass, step: pass.steps[j] };
  return null;
}

function facts(el, rows) {
  const dl = el.append("dl");
  for (const [k, v] of rows) fact(dl, k, v);
  return dl;
}

function fact(dl, k, v) {
  dl.append("dt").text(k);
  dl.append("dd").text(v);
}

function link(dl, k, text, key, ctx) {
  dl.append("dt").text(k);
  dl.append("dd").append("button").attr("class", "link").text(text).on("click", () => ctx.onSelect(key));
}

function section(el, title, v, cls = "", emptyText = "—") {
  el.append("h4").attr("class", cls).text(title);
  if (!v) { el.append("div").attr("class", "note").text(emptyText ?? "—"); return; }
  const items = fmtItems(v, 5);
  if (!items) { el.append("div").text(`${fmtShape(v.shape)}: ${fmtStats(v)} (too big to send whole)`); return; }
  if (!v.shape.length) { el.append("div").attr("class", "mono").text(fmtItems(v, 6)[0]); return; }
  const cols = v.shape[v.shape.length - 1] || 1;
  const table = el.append("table");
  for (let r = 0; r * cols < items.length; r++) {
    const tr = table.append("tr");
    for (const x of items.slice(r * cols, (r + 1) * cols)) tr.append("td").text(x);
  }
  if (v.shape.length > 2) el.append("div").attr("class", "note").text(`shape ${fmtShape(v.shape)} shown as rows of ${cols}`);
}
