// The training-loop card over the graph: iteration selector, a per-iteration chart of a series (loss by
// default; D3) with the recorded iterations marked (click one to show it), and what was left out.
import * as d3 from "../../vendor/d3.js";
import { buildLoops, iterationAt, seriesPoints } from "../model/loops.js";
import { fmtNum } from "../model/format.js";

const SMALL = { W: 300, H: 96 }, BIG = { W: 680, H: 260 }; // the chart in the card, and enlarged
const M = { top: 8, right: 10, bottom: 20, left: 46 };

/** `onSelect(iteration)` runs when the reader picks a recorded iteration (selector, chart point). */
export function createLoopView(root, { onSelect = () => {} } = {}) {
  let model = null, current = null, seriesIndex = 0, big = false, cursor = null;
  if (!root) return { load: (trace, tl) => (model = buildLoops(trace, tl)), step: () => null, get model() { return model; } };
  const doc = root.ownerDocument;
  // The graph pane ends above the card (CSS --loop-h on their parent): the card covers no node. Set at once on load,
  // so the fit that follows is for the smaller pane; a fold or an enlarged chart changes it through the observer.
  const room = () => root.parentElement?.style.setProperty("--loop-h", root.hidden ? "0px" : `${Math.ceil(root.offsetHeight) + 12}px`);
  if (doc.defaultView?.ResizeObserver) new doc.defaultView.ResizeObserver(room).observe(root);

  function load(trace, tl) {
    model = buildLoops(trace, tl);
    current = null;
    seriesIndex = 0;
    root.replaceChildren();
    root.hidden = !model.iters.length;
    if (!model.iters.length) { delete root.dataset.iteration; room(); return model; }
    const loop = chartLoop(model);
    const head = el("div", "loop-head");
    const title = el("strong", "", `Loop, lines ${loop.line}–${loop.end_line}: ${loop.iterations.toLocaleString("en")} iteration${loop.iterations === 1 ? "" : "s"}${inside(loop, model)}`);
    const select = el("select");
    select.id = "iteration";
    select.setAttribute("aria-label", "Iteration");
    for (const it of model.iters) select.append(new Option(`${it.label}${model.loops.length > 1 ? ` (${it.loop})` : ""}`, String(it.pos)));
    select.addEventListener("change", () => pick(Number(select.value)));
    const fold = el("button", "btn icon loop-fold");
    fold.type = "button";
    fold.setAttribute("aria-label", "Loss chart");
    fold.title = "Show / hide the chart";
    // A loop recorded in full (a few iterations) keeps the card small; a folded one opens with its chart.
    const open = loop.iterations > (loop.recorded || []).length;
    const setOpen = (v) => { fold.setAttribute("aria-expanded", String(v)); fold.textContent = v ? "▾" : "▸"; root.classList.toggle("folded", !v); };
    fold.addEventListener("click", () => setOpen(fold.getAttribute("aria-expanded") !== "true"));
    setOpen(open);
    const grow = el("button", "btn icon loop-grow", "⤢");
    grow.type = "button";
    grow.setAttribute("aria-label", "Enlarge chart");
    grow.setAttribute("aria-pressed", String(big));
    grow.title = "Enlarge / shrink the chart";
    grow.addEventListener("click", () => { big = !big; grow.setAttribute("aria-pressed", String(big)); root.classList.toggle("big", big); if (big) setOpen(true); chart(); mark(); });
    root.classList.toggle("big", big);
    head.append(title, select, grow, fold);
    root.append(head);
    const series = loop.series || [];
    if (series.length > 1) {
      const which = el("select");
      which.setAttribute("aria-label", "Chart series");
      series.forEach((s, i) => which.append(new Option(`${s.name}${s.line ? ` (line ${s.line})` : ""}`, String(i))));
      which.addEventListener("change", () => { seriesIndex = Number(which.value); chart(); mark(); });
      root.append(which);
    }
    const svg = d3.select(root).append("svg").attr("class", "loop-chart").attr("role", "group").attr("tabindex", 0);
    svg.append("g").attr("class", "plot");
    // Hover (or ←/→ on the focused chart) reads one iteration's value out: here, and in the status for screen readers.
    const readout = el("p", "loop-readout");
    readout.id = "loop-readout";
    readout.setAttribute("role", "status");
    root.append(readout, el("p", "loop-note", summary(loop, model)));
    chart();
    room();
    return model;
  }

  function chart() {
    const loop = chartLoop(model);
    const s = (loop.series || [])[seriesIndex];
    const { W, H } = big ? BIG : SMALL;
    const svg = d3.select(root).select("svg.loop-chart").attr("viewBox", `0 0 ${W} ${H}`);
    const g = svg.select("g.plot");
    g.selectAll("*").remove();
    svg.attr("aria-label", s ? `${s.name} per iteration (← → read the values)` : "no series recorded");
    svg.on("pointermove pointerleave keydown", null);
    read(null);
    if (!s) return;
    const pts = seriesPoints(s);
    const vals = pts.filter((p) => p.v !== null).map((p) => p.v);
    const lo = d3.min(vals) ?? 0, hi = d3.max(vals) ?? 1;
    const log = lo > 0 && hi / lo > 100; // a loss falling over decades reads better on a log axis
    const x = d3.scaleLinear().domain([0, Math.max(1, pts.length - 1)]).range([M.left, W - M.right]);
    const y = (log ? d3.scaleLog() : d3.scaleLinear()).domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi]).nice().range([H - M.bottom, M.top]);
    g.append("g").attr("class", "axis").attr("transform", `translate(0,${H - M.bottom})`).call(d3.axisBottom(x).tickValues(x.ticks(4).filter(Number.isInteger)).tickFormat(d3.format("~s")).tickSizeOuter(0));
    g.append("g").attr("class", "axis").attr("transform", `translate(${M.left},0)`).call(d3.axisLeft(y).ticks(3, "~s").tickSizeOuter(0));
    g.append("text").attr("class", "axis-label").attr("x", W - M.right).attr("y", H - 2).attr("text-anchor", "end").text("iteration");
    g.append("text").attr("class", "axis-label").attr("x", W - M.right).attr("y", M.top).attr("text-anchor", "end").text(`${s.name}${log ? " (log)" : ""}`);
    const line = d3.line().defined((p) => p.v !== null).x((p) => x(p.i)).y((p) => y(p.v));
    g.append("path").attr("class", "series").attr("d", line(pts));
    if (vals.length * 2 < pts.length) { // sparse (a value printed every 100 iterations): dots, a line would vanish
      g.selectAll("circle.point").data(pts.filter((p) => p.v !== null)).join("circle").attr("class", "point").attr("cx", (p) => x(p.i)).attr("cy", (p) => y(p.v)).attr("r", 1.8);
    }
    const marks = model.iters.filter((it) => it.loop === loop.id && it.index < pts.length && pts[it.index].v !== null);
    g.selectAll("circle.recorded").data(marks).join("circle")
      .attr("class", "recorded").attr("cx", (it) => x(it.index)).attr("cy", (it) => y(pts[it.index].v)).attr("r", 4.5)
      .attr("tabindex", 0).attr("role", "button").attr("data-iteration", (it) => it.index)
      .attr("aria-label", (it) => `${it.label}: ${s.name} ${fmtNum(pts[it.index].v)} — show this iteration`)
      .on("click", (_, it) => pick(it.pos))
      .on("keydown", (ev, it) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); ev.stopPropagation(); pick(it.pos); } })
      .append("title").text((it) => `${it.label}: ${s.name} = ${fmtNum(pts[it.index].v)}`);
    const guide = g.append("g").attr("class", "hover").attr("display", "none");
    guide.append("line").attr("y1", M.top).attr("y2", H - M.bottom);
    guide.append("circle").attr("r", 3.5);
    const known = pts.filter((p) => p.v !== null);
    const show = (p) => {
      cursor = p ? p.i : null;
      guide.attr("display", p ? null : "none");
      if (p) { guide.select("line").attr("x1", x(p.i)).attr("x2", x(p.i)); guide.select("circle").attr("cx", x(p.i)).attr("cy", y(p.v)); }
      read(p && { i: p.i, v: p.v, name: s.name });
    };
    const nearest = (i) => known.reduce((a, p) => (Math.abs(p.i - i) < Math.abs(a.i - i) ? p : a), known[0]);
    svg.on("pointermove", (ev) => { if (known.length) show(nearest(x.invert(d3.pointer(ev, svg.node())[0]))); })
      .on("pointerleave", () => show(null))
      .on("keydown", (ev) => {
        if (!known.length || (ev.key !== "ArrowLeft" && ev.key !== "ArrowRight" && ev.key !== "Home" && ev.key !== "End")) return;
        ev.preventDefault(); ev.stopPropagation(); // the chart's arrows, not the timeline's
        const at = known.findIndex((p) => p.i === cursor);
        const j = ev.key === "Home" ? 0 : ev.key === "End" ? known.length - 1 : at < 0 ? 0 : Math.max(0, Math.min(known.length - 1, at + (ev.key === "ArrowRight" ? 1 : -1)));
        show(known[j]);
      });
  }

  // The value under the cursor, as text (data-iteration / data-value carry the exact numbers for tools and tests).
  function read(p) {
    const out = root.querySelector("#loop-readout");
    if (!out) return;
    out.textContent = p ? `iteration ${p.i}: ${p.name} ${fmtNum(p.v)}` : "";
    if (p) { out.dataset.iteration = String(p.i); out.dataset.value = String(p.v); } else { delete out.dataset.iteration; delete out.dataset.value; }
  }

  function pick(pos) {
    const it = model?.iters[pos];
    if (it) onSelect(it, model);
  }

  function mark() {
    const key = current?.key ?? null;
    d3.select(root).selectAll("circle.recorded").classed("current", (it) => it.key === key).attr("aria-pressed", (it) => String(it.key === key));
  }

  /** Show which iteration step k is in; returns it (null outside loops). */
  function step(k) {
    if (!model?.iters.length) return null;
    const it = iterationAt(model, k);
    if (it !== current) {
      current = it;
      const select = root.querySelector("#iteration");
      if (select) select.value = it ? String(it.pos) : "";
      if (it) root.dataset.iteration = String(it.index); else delete root.dataset.iteration;
      mark();
    }
    return it;
  }

  function el(tag, cls = "", text = "") {
    const e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  return { load, step, get model() { return model; } };
}

// A nested loop's place: " in iteration 0 of the loop at line 64" (its parent, Loop.parent / parent_index).
const inside = (loop, model) => {
  const parent = loop.parent ? model.loops.find((l) => l.id === loop.parent) : null;
  return parent ? ` in iteration ${loop.parent_index} of the loop at line ${parent.line}` : "";
};

// The loop the card is about: the first one that folded (a nested minibatch loop inside a few epochs), else the first.
const chartLoop = (model) => model.loops.find((l) => l.iterations > (l.recorded || []).length) ?? model.loops[0];

function summary(loop, model) {
  const shown = model.iters.filter((it) => it.loop === loop.id).map((it) => it.index);
  const om = loop.omitted || {};
  const rest = loop.iterations - shown.length;
  const names = [...new Set((loop.series || []).map((s) => s.name))].join(", ");
  let text = `Drawn in full: iteration${shown.length === 1 ? "" : "s"} ${shown.join(", ")}.`;
  if (rest > 0) text += ` The other ${rest.toLocaleString("en")} ran too; kept of them: ${names || "nothing"}`
    + ` (${(om.forward_steps ?? 0).toLocaleString("en")} forward steps, ${(om.backward_passes ?? 0).toLocaleString("en")} backward passes folded).`;
  if (model.omitted) text += ` Recording was cut short: ${model.omitted.reason || "a trace limit was reached"}.`;
  return text;
}
