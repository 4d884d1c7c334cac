// Hover and keyboard focus on any tensor, node or edge: its values in a tooltip placed off the active node.
// Also makes every drawn node a Tab stop with an accessible name; Enter (or Space) opens its details.
import { fmtValues, fmtShape, fmtStats } from "../model/format.js";
import { shortNodeName } from "../model/names.js";
import { nodeHelp } from "../teach/node-help.js";

const NUM = (v) => (v ? (v.values === null || v.values === undefined ? fmtStats(v) : fmtValues(v, { maxItems: 16 })) : "None");

/** ctx: { graph(), state(), open(key), elements() } — drawable graph, state at this step, select a node, every node <g>. */
export function createTooltip(root, ctx) {
  const doc = root.ownerDocument;
  const tip = doc.createElement("div");
  tip.id = "gt-tooltip";
  tip.className = "gt-tooltip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  root.appendChild(tip);
  let target = null;

  const find = (el) => el?.closest?.("#graph [data-key], #graph .edge[data-edge]") ?? null;
  root.addEventListener("pointerover", (ev) => { const t = find(ev.target); if (t) show(t); });
  root.addEventListener("pointerout", (ev) => { if (find(ev.target) && !find(ev.relatedTarget)) hide(); });
  root.addEventListener("focusin", (ev) => { const t = find(ev.target); if (t) show(t); });
  root.addEventListener("focusout", () => hide());
  root.addEventListener("keydown", (ev) => {
    const t = find(ev.target);
    if (!t?.dataset.key || (ev.key !== "Enter" && ev.key !== " ")) return;
    ev.preventDefault();
    ev.stopPropagation(); // Space here opens details instead of playing
    ctx.open(t.dataset.key);
  });

  function show(el) {
    const lines = describe(el);
    if (!lines) return;
    target = el;
    tip.replaceChildren(...lines.map((l, i) => {
      const d = doc.createElement("div");
      d.className = i === 0 ? "tt-title" : "tt-line";
      d.textContent = l;
      return d;
    }));
    tip.hidden = false;
    place(el);
  }

  function hide() { tip.hidden = true; target = null; }

  function describe(el) {
    const g = ctx.graph(), st = ctx.state();
    if (!g || !st) return null;
    if (el.dataset.edge) {
      const e = g.edges.get(el.dataset.edge);
      if (!e) return null;
      const from = g.nodes.get(e.source)?.label ?? e.source, to = g.nodes.get(e.target)?.label ?? e.target;
      const grad = st.flow?.edgeGrad?.get(e.key);
      return [`${from} → ${to}`, e.kind === "untracked" ? `${e.op ?? "op"}: not recorded by autograd` : `${e.kind} edge`,
        grad ? `gradient on it in this pass: ${NUM(grad)}` : "no gradient on it at this step"];
    }
    const d = g.nodes.get(el.dataset.key);
    if (!d) return null;
    if (d.type === "tensor") {
      const t = d.tensor;
      const flow = st.flow?.tensorFlow?.get(t.id);
      return [`${d.label}  ${fmtShape(t.shape)} ${t.dtype}`, ...(t.tied?.length ? [`tied with ${t.tied.join(", ")}`] : []),
        `value: ${NUM(st.data(t.id))}`, `.grad: ${NUM(st.grad(t.id))}`,
        ...(flow ? [`gradient arrived in this pass: ${NUM(flow.sum)}${flow.parts.length > 1 ? ` (sum of ${flow.parts.length} paths)` : ""}`] : [])];
    }
    const n = d.node;
    const status = st.flow?.current?.node === n.id ? "running now" : st.flow?.done?.has(n.id) ? "ran in this pass"
      : st.flow?.pending?.has(n.id) ? "waiting for its gradient" : "";
    return [shortNodeName(n.name), nodeHelp(n.name, d.kind) || "an autograd node", ...(status ? [status] : []), "Enter: details"];
  }

  // Below, above, right or left of the hovered element: the first spot that keeps the active node uncovered.
  function place(el) {
    const pane = root.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const box = { x: r.left - pane.left, y: r.top - pane.top, w: r.width, h: r.height };
    const tw = tip.offsetWidth, th = tip.offsetHeight, W = root.clientWidth, H = root.clientHeight;
    const activeEl = root.querySelector("g.node.active");
    const a = activeEl?.getBoundingClientRect();
    const avoid = a && activeEl !== el ? { x: a.left - pane.left, y: a.top - pane.top, w: a.width, h: a.height } : null;
    const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, x));
    const spots = [
      { x: box.x, y: box.y + box.h + 8 }, { x: box.x, y: box.y - th - 8 },
      { x: box.x + box.w + 8, y: box.y }, { x: box.x - tw - 8, y: box.y },
    ].map((s) => ({ x: clamp(s.x, 4, W - tw - 4), y: clamp(s.y, 4, H - th - 4) }));
    const hits = (s, o) => o && !(s.x >= o.x + o.w || s.x + tw <= o.x || s.y >= o.y + o.h || s.y + th <= o.y);
    const at = spots.find((s) => !hits(s, avoid) && !hits(s, box)) ?? spots.find((s) => !hits(s, avoid)) ?? spots[0];
    tip.style.left = `${Math.round(at.x)}px`;
    tip.style.top = `${Math.round(at.y)}px`;
  }

  /** Tab stops and accessible names for every drawn node (after each layout). */
  function decorate() {
    const g = ctx.graph();
    if (!g) return;
    for (const el of ctx.elements()) decorateOne(el, g.nodes.get(el.dataset.key));
  }

  /** The same for one node's <g> (`d` its drawable node). */
  function decorateOne(el, d) {
    if (!d) return;
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", "button");
    // The name comes from the box's own text (what a sighted user reads); the help line is its description.
    el.setAttribute("aria-description", d.type === "tensor"
      ? `tensor, shape ${fmtShape(d.tensor.shape)}` : nodeHelp(d.node.name, d.kind) || "autograd node");
  }

  /** Keep an open tooltip's numbers in step with the timeline. */
  function refresh() { if (target && !tip.hidden) show(target); }

  return { decorate, decorateOne, refresh, hide, element: tip };
}
