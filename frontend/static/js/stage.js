// The graph stage shared by the page and /embed: trace → graph, timeline, layout, player, narration,
// graph tools and details panel. Pages differ only in where programs come from and what sits around it.
import { buildGraph } from "./model/graph.js";
import { expandTrace } from "./wire/expand.js";
import { buildTimeline } from "./model/timeline.js";
import { stateAt } from "./model/state.js";
import { Player } from "./model/player.js";
import { createGraphView } from "./view/graph-view.js";
import { FULL_SCALE } from "./view/semantic.js";
import { bindControls, drawPassMarks } from "./view/controls.js";
import { renderPanel } from "./view/panel.js";
import { setNarration } from "./view/marked-text.js";
import { drawLegend } from "./view/legend.js";
import { createLoopView } from "./view/loop-view.js";
import { bindJump } from "./view/jump.js";
import { foldsIterations, iterationAt, moduleGroups, showIteration } from "./model/loops.js";
import { bigTrace } from "./layout/client.js";
import { chainCard } from "./teach/chain-card.js";
import { updateCard } from "./teach/update-card.js";
import { manualCard } from "./teach/update-narration.js";
import { question, withholdAnswer } from "./teach/quiz.js";
import { createTeach } from "./view/teach.js";
import { createQuizView } from "./view/quiz.js";
import { createFdCheck } from "./view/fd-check.js";
import { createTooltip } from "./view/tooltip.js";
import { fitText } from "./view/fit-text.js";
import { chooseLevel, collapsedAt, closedByDefault, maxLevel } from "./layout/levels.js";
import { layoutBoxes } from "./layout/layout.js";
import { bookkeeping as bookkeepingOf } from "./model/bookkeeping.js";
import * as d3 from "../vendor/d3.js";
import { carryStep } from "./model/carry-step.js";
import { nextBlockEnd, prevBlockStart } from "./model/blocks.js";

const tick = () => new Promise((r) => setTimeout(r));
const PRESENTER_SCALE = 1.15; // presenter mode: following a step zooms in at least this far (text readable from afar)
// phones: the graph at full text (names 15 px, the smallest text 11 px: semantic zoom shows full text from there), never a fitted whole of 8 px text
const PHONE_SCALE = FULL_SCALE;
const PHONE = "(max-width: 600px), (max-height: 500px) and (orientation: landscape)"; // screens.css's phone layouts

/**
 * `layouts`: a layout client. Hooks: `status(text)` for slow layouts, `loaded(trace)` once a trace is in
 * (and again after a slow layout), `lines({step})` to mark the current line, `rendered(k)` after each step.
 */
// `checkNumerically(name)`: the server's finite-difference check of a leaf (absent in the standalone file).
// `passKey(key)`: true when a clicker key (←/→/PageUp/PageDown) or Escape belongs to the page around an embed.
export function createStage(doc, { layouts, status = () => {}, loaded = () => {}, lines = () => {}, rendered = () => {}, checkNumerically = null, passKey }) {
  const $ = (id) => doc.getElementById(id);
  const root = $("graph");
  const st = { trace: null, code: "", graph: null, tl: null, collapsed: new Set(), rankdir: "LR", autoDir: true, selected: null, follow: true, layout: null, state: null,
    level: null, bookkeeping: false };
  const view = createGraphView(root, { onSelect: select, onToggleGroup: toggleGroup, onZoom: () => teach?.follow(), onMake: (el, d) => tooltip?.decorateOne(el, d),
    onZoomIn: (gk) => { if (st.collapsed.has(gk) && !st.graph.groups.get(gk)?.iteration) openByZoom(gk); } });
  const teach = createTeach(root, view);
  const tooltip = createTooltip(root, { graph: () => st.graph, state: () => st.state, open: (key) => select(key), elements: () => view.nodeElements() });
  const fd = createFdCheck(checkNumerically && ((name) => checkNumerically(name, st.code)));
  const quiz = createQuizView(root, { onChange: () => { refresh(); rendered(player.step); } });
  let waiting = false; // a quiz question waits for its answer: stepping on (→, Step forward, Play) holds until it has one
  const player = new Player({ onStep: (k, why) => render(k, why), onChange: () => sync(), hold: () => waiting, onHold: () => quiz.nudge() });
  const sync = bindControls(doc, player, { onFit: () => view.fit(300), passKey, byBlock });
  const loopView = createLoopView($("loop"), { onSelect: (it, m) => { player.pause(); player.seek(m.spans[it.pos]?.start ?? 0, "iteration"); } });
  const jumpReady = bindJump(doc, player, () => st.tl);
  wireTools();

  function wireTools() {
    const on = (id, f) => $(id)?.addEventListener("click", f);
    if ($("legend")) drawLegend($("legend"));
    on("fit", () => view.fit(300));
    on("zoom-in", () => view.zoomBy(1.3));
    on("zoom-out", () => view.zoomBy(1 / 1.3));
    on("panel-close", () => select(null));
    toggle($("legend-toggle"), (v) => { $("legend").hidden = !v; });
    toggle($("follow"), (v) => { st.follow = v; });
    toggle($("toggle-code"), (v) => { // "Hide code" for presenting (the page and the standalone file)
      doc.body.classList.toggle("code-hidden", v);
      $("toggle-code").setAttribute("aria-label", v ? "Show code" : "Hide code");
      view.fit(250);
    });
    on("direction", () => { st.rankdir = st.rankdir === "LR" ? "TB" : "LR"; st.autoDir = false; relayout(); });
    on("modules", () => { // folds nn.Module groups only; iteration boxes keep their state
      const mods = moduleGroups(st.graph), shut = mods.some((k) => st.collapsed.has(k));
      st.collapsed = new Set([...st.collapsed].filter((k) => !mods.includes(k)).concat(shut ? [] : mods));
      st.level = null;
      relayout();
    });
    on("level-less", () => setLevel((st.level ?? maxLevel(st.graph) + 1) - 1));
    on("level-more", () => setLevel((st.level ?? 0) + 1));
    toggle($("bookkeeping"), (v) => { st.bookkeeping = v; rebuild(); });
    doc.defaultView.addEventListener("resize", () => {
      if (st.graph) view.fit();
      if (st.layout && phone() && view.transform.k < PHONE_SCALE) readableStart(st.layout);
      measureSoon();
    });
  }

  /**
   * Show a trace; resolves once it is drawn. `restore` (from a link) may set {step, collapsed, rankdir}:
   * step null means the start (or the end of a failed run). `restore.carry` {tl, code, step}: a re-run of an
   * edited program starts where the same line and op still exist (live edit).
   */
  let loadSeq = 0;
  async function load(compactOrFull, code, restore = {}) {
    const t0 = performance.now();
    const seq = ++loadSeq;
    const big = bigTrace(compactOrFull); // big traces: short tasks, not one long one
    layouts.newTrace(compactOrFull); // the layout worker expands its own copy
    if (big) await tick();
    const trace = expandTrace(compactOrFull); // the one place a trace enters: page, /embed, standalone file, notebook
    const graph = buildGraph(trace, { source: code, bookkeeping: st.bookkeeping });
    if (big) await tick();
    if (seq !== loadSeq) return;
    st.trace = trace; st.code = code;
    st.graph = graph;
    st.tl = buildTimeline(trace, st.graph);
    st.layout = null;
    st.autoDir = !restore.rankdir;
    st.rankdir = restore.rankdir || "LR"; // a new program starts left to right (not in the last one's direction)
    if (!Array.isArray(restore.collapsed) && Array.isArray(restore.open)) { // a class's view may list the open groups instead
      const open = new Set(restore.open);
      restore = { ...restore, collapsed: [...st.graph.groups.keys()].filter((k) => !open.has(k)) };
    }
    // A link's groups as they were; otherwise the module overview at the deepest readable level (relayout picks it).
    const auto = !Array.isArray(restore.collapsed);
    st.collapsed = auto ? closedByDefault(st.graph) : new Set(restore.collapsed.filter((k) => st.graph.groups.has(k)));
    st.level = null;
    const loops = loopView.load(trace, st.tl); // training loops: show one recorded iteration, the others folded
    jumpReady();
    if (big) await tick();
    if (seq !== loadSeq) return;
    if ($("modules")) $("modules").hidden = moduleGroups(st.graph).length === 0;
    for (const id of ["level-less", "level-more", "step-block"]) if ($(id)) $(id).hidden = maxLevel(st.graph) < 0;
    if ($("bookkeeping")) $("bookkeeping").hidden = !st.bookkeeping && bookkeepingOf(trace).steps.size === 0;
    select(null);
    loaded(trace);
    drawPassMarks($("scrub-marks"), st.tl);
    root.dataset.steps = String(st.tl.total);
    $("graph-empty").hidden = st.graph.nodes.size > 0;
    if (!st.graph.nodes.size) $("graph-empty").textContent = trace.error?.kind === "syntax" ? "Nothing ran: Python could not read the program." : "This program made no tensors to draw.";
    if (restore.quiz !== undefined) quiz.set(!!restore.quiz);
    quiz.reset();
    fd.reset();
    const carried = restore.carry?.tl ? carryStep(restore.carry.tl, restore.carry.code, restore.carry.step, st.tl, code) : null;
    const start = carried !== null ? carried : Number.isInteger(restore.step) ? Math.min(restore.step, st.tl.total) : trace.status === "error" ? st.tl.total : 0;
    if (foldsIterations(loops) && !Array.isArray(restore.collapsed)) st.collapsed = showIteration(st.graph, st.collapsed, (iterationAt(loops, start) ?? loops.iters[0]).key);
    player.load(st.tl.total, start);
    await relayout({ auto });
    root.dataset.loadMs = String(Math.round(performance.now() - t0));
    root.dataset.loads = String(Number(root.dataset.loads || 0) + 1); // tests wait on this
  }

  let layoutSeq = 0;
  // auto: pick the overview level (layout/levels.js) first.
  async function relayout({ auto = false, focusGroup = null } = {}) {
    if (!st.graph) return;
    const seq = ++layoutSeq;
    const t0 = performance.now();
    const g = st.graph, hints = st.tl.hints, extra = { hints, bookkeeping: st.bookkeeping };
    const big = g.nodes.size > 600;
    if (big) status(`Laying out ${g.nodes.size.toLocaleString()} nodes…`);
    let layout;
    if (auto && maxLevel(g) >= 0) {
      const prev = st.collapsed, { w, h } = view.pane();
      const at = (d) => collapsedAt(g, d, prev);
      const r = await chooseLevel(g, { w, h, fitScale: view.fitScale, boxesAt: (d) => layoutBoxes(g, { collapsed: at(d), hints }),
        layoutAt: (d) => layouts.layout(st.trace, g, { ...extra, collapsed: at(d), rankdir: st.rankdir }) });
      if (seq !== layoutSeq) return;
      st.level = r.level;
      st.collapsed = at(r.level);
      layout = r.layout;
    } else layout = await layouts.layout(st.trace, g, { ...extra, collapsed: st.collapsed, rankdir: st.rankdir });
    const opts = { ...extra, collapsed: st.collapsed };
    if (st.autoDir && st.graph.nodes.size < 250) { // small graphs: take whichever direction fits the pane bigger
      const flip = st.rankdir === "LR" ? "TB" : "LR";
      const other = await layouts.layout(st.trace, st.graph, { ...opts, rankdir: flip });
      if (view.fitScale(other) > view.fitScale(layout) * 1.05) { layout = other; st.rankdir = flip; }
    }
    if (seq !== layoutSeq) return; // a newer trace or toggle won
    if (big) loaded(st.trace);
    root.dataset.layoutMs = String(Math.round(performance.now() - t0));
    if ($("direction")) $("direction").textContent = st.rankdir === "LR" ? "→" : "↓";
    if (big) { // drawn in slices, then shown in a task of its own
      st.layout = null;
      await view.setModelAsync(st.graph, layout, tick);
      if (seq !== layoutSeq) return;
    } else view.setModel(st.graph, layout);
    st.layout = layout;
    tooltip.decorate();
    $("modules")?.setAttribute("aria-pressed", String(moduleGroups(st.graph).some((k) => st.collapsed.has(k))));
    if (focusGroup) view.fitGroup(focusGroup);
    else {
      view.fit();
      if (phone() && view.transform.k < PHONE_SCALE) readableStart(layout);
    }
    render(player.step, "layout");
  }

  const phone = () => !doc.body.classList.contains("embed") && !!doc.defaultView.matchMedia?.(PHONE).matches;
  const minScale = () => (doc.documentElement.classList.contains("presenter") ? PRESENTER_SCALE : phone() ? PHONE_SCALE : 0);

  // A phone: the start of the program (its first node) at a readable scale instead of the whole graph too small to read.
  function readableStart(layout) {
    let first = null;
    for (const d of st.graph.nodes.values()) if (view.nodeBox(d.key) && (!first || d.seq < first.seq)) first = d;
    if (!first) return;
    const p = view.nodeBox(first.key), k = PHONE_SCALE, W = root.clientWidth, H = root.clientHeight, TOP = 50;
    const tx = layout.width * k <= W ? (W - layout.width * k) / 2 : Math.min(8, W / 2 - k * p.x);
    const ty = layout.height * k <= H - TOP ? TOP + (H - TOP - layout.height * k) / 2 : Math.min(TOP, (H + TOP) / 2 - k * p.y);
    view.panTo(d3.zoomIdentity.translate(tx, ty).scale(k), 0);
  }

  // Opening a block shows it filling the pane (its contents readable); closing one shows the whole graph again.
  function toggleGroup(gk) {
    st.collapsed = new Set(st.collapsed);
    const open = st.collapsed.delete(gk);
    if (!open) st.collapsed.add(gk);
    st.level = null;
    relayout({ focusGroup: open && !st.graph.groups.get(gk)?.iteration ? gk : null });
  }

  // Step by block: to the step where the gradient leaves the closed block the next step runs in (back: before its first).
  function byBlock(dir) {
    if (!st.tl) return;
    player.pause();
    player.seek(dir > 0 ? nextBlockEnd(st.tl, player.step, st.collapsed) : prevBlockStart(st.tl, player.step, st.collapsed), "block");
  }

  // Semantic zoom: zooming into a closed block opens it, and the view stays on it.
  async function openByZoom(gk) {
    st.collapsed = new Set(st.collapsed);
    st.collapsed.delete(gk);
    st.level = null;
    await relayout({ focusGroup: gk });
  }

  /** Show the module overview at `level` (0: outermost modules closed), clamped to the levels there are. */
  function setLevel(level) {
    if (!st.graph) return;
    st.level = Math.max(0, Math.min(maxLevel(st.graph) + 1, level));
    st.collapsed = collapsedAt(st.graph, st.level, st.collapsed);
    relayout();
  }

  // Show or hide the training bookkeeping: a new graph and timeline of the same trace, at the same step.
  async function rebuild() {
    if (!st.trace) return;
    st.graph = buildGraph(st.trace, { source: st.code, bookkeeping: st.bookkeeping });
    st.tl = buildTimeline(st.trace, st.graph);
    st.collapsed = closedByDefault(st.graph);
    player.load(st.tl.total, Math.min(player.step, st.tl.total));
    await relayout({ auto: true });
  }

  function render(k, why) {
    if (!st.tl || !st.layout) return;
    const it = loopView.step(k);
    if (it && st.collapsed.has(it.key)) { st.collapsed = showIteration(st.graph, st.collapsed, it.key); relayout(); return; } // step k is in a folded iteration
    const shown = stateAt(st.tl, k, { source: st.code, collapsed: st.collapsed }); // a closed block's steps told at block level
    const card = chainCard(st.tl, k, { source: st.code });
    const q = quiz.on ? question(card) : null;
    const hidden = quiz.show(q); // predicting: the card, the sent gradients and the narration wait for an answer
    waiting = hidden;
    // while a question waits the graph draws no part of its answer: not on an edge, a box, a tooltip or the details
    const state = (st.state = hidden ? withholdAnswer(shown, stateAt(st.tl, k - 1, { source: st.code })) : shown);
    // The editor reads layout when it moves its line marks: first, while the page is still clean, not after the graph's writes.
    lines({ step: state.line, cause: state.problem?.cause?.line ?? state.warnings.find((w) => w.line)?.line ?? state.cuts[0]?.line ?? null });
    const animate = why === "play" || why === "forward";
    view.update(state, { animate, duration: Math.min(900, player.stepDuration * 0.85), follow: st.follow && (why !== "layout" || k > 0), minScale: minScale() });
    const n = shown.narration;
    teach.render(state, card ?? updateCard(st.tl, k, { source: st.code }) ?? manualCard(st.tl, k, { source: st.code }), { hidden, tl: st.tl }); // a backward node's chain rule, or an optimizer's update
    $("narration-title").textContent = n.title;
    setNarration($("narration"), hidden ? `Predict first: ${q.prompt} Pick an answer in the quiz box.` : n.text);
    measureSoon();
    root.dataset.step = String(k);
    if (st.selected) showPanel();
    rendered(k);
  }

  // What must read layout (card placement, narration fit, an open tooltip) runs once, at the start of the next
  // frame: reading it between this step's DOM writes would force an extra layout of the whole graph per step.
  let measuring = 0;
  function measureSoon() {
    if (measuring) return;
    measuring = doc.defaultView.requestAnimationFrame(() => {
      measuring = 0;
      fitText($("narration"), { minPx: doc.documentElement.classList.contains("presenter") ? 15 : 11 }); // whole, smaller if it must
      teach.place(); // after the narration's writes: one layout serves both
      tooltip.refresh();
      root.dataset.measured = root.dataset.step; // tests wait on this
    });
  }

  function select(key) {
    st.selected = key;
    view.select(key);
    $("panel").hidden = !key;
    if (key) showPanel();
    measureSoon(); // the card keeps beside the details
  }

  function showPanel() {
    renderPanel($("panel-body"), st.selected, {
      graph: st.graph, trace: st.trace, state: st.state, source: st.code, onSelect: (key) => { select(key); view.focus(key, 400); },
    });
    fd.decorate($("panel-body"), st.selected, st.graph);
  }

  /** What a link needs to rebuild this view (besides the program): step, groups, a chosen direction. */
  function viewState() {
    return { step: player.step, collapsed: [...st.collapsed], rankdir: st.autoDir ? null : st.rankdir, quiz: quiz.on };
  }

  /** Take a view from elsewhere (a class session's lecturer): the folded groups (or the open ones), a chosen direction. */
  function applyView({ collapsed, open, rankdir } = {}) {
    if (!st.graph) return;
    let changed = false;
    if (!Array.isArray(collapsed) && Array.isArray(open)) { const o = new Set(open); collapsed = [...st.graph.groups.keys()].filter((k) => !o.has(k)); }
    if (Array.isArray(collapsed)) {
      const want = new Set(collapsed.filter((k) => st.graph.groups.has(k)));
      if (want.size !== st.collapsed.size || [...want].some((k) => !st.collapsed.has(k))) { st.collapsed = want; changed = true; }
    }
    if ((rankdir === "LR" || rankdir === "TB") && (st.autoDir || rankdir !== st.rankdir)) { st.rankdir = rankdir; st.autoDir = false; changed = true; }
    if (changed) relayout();
  }

  /** Draw the current step again (after a change of presentation, e.g. presenter mode). */
  const refresh = () => render(player.step, "refresh");

  /** Move keyboard focus to the graph (after Run: → steps at once instead of moving the editor's cursor). */
  const focusGraph = () => view.svg.focus({ preventScroll: true });

  return { load, relayout, select, viewState, applyView, refresh, view, player, app: st, quiz, focusGraph, setLevel, toggleGroup };
}

function toggle(button, onChange) {
  button?.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    onChange(on);
  });
}
