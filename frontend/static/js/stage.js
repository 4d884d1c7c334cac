// The graph stage shared by the page and /embed: trace → graph, timeline, layout, player, narration,
// graph tools and details panel. Pages differ only in where programs come from and what sits around it.
import { buildGraph } from "./model/graph.js";
import { expandTrace } from "./wire/expand.js";
import { buildTimeline } from "./model/timeline.js";
import { stateAt } from "./model/state.js";
import { Player } from "./model/player.js";
import { createGraphView } from "./view/graph-view.js";
import { bindControls, drawPassMarks } from "./view/controls.js";
import { renderPanel } from "./view/panel.js";
import { setNarration } from "./view/marked-text.js";
import { drawLegend } from "./view/legend.js";
import { createLoopView } from "./view/loop-view.js";
import { bindJump } from "./view/jump.js";
import { foldsIterations, iterationAt, moduleGroups, showIteration } from "./model/loops.js";
import { bigTrace } from "./layout/client.js";
import { chainCard } from "./teach/chain-card.js";
import { question } from "./teach/quiz.js";
import { createTeach } from "./view/teach.js";
import { createQuizView } from "./view/quiz.js";
import { createFdCheck } from "./view/fd-check.js";
import { createTooltip } from "./view/tooltip.js";
import { fitText } from "./view/fit-text.js";

const tick = () => new Promise((r) => setTimeout(r));
const BIG = 300; // drawn nodes past which module groups start collapsed
const PRESENTER_SCALE = 1.15; // presenter mode: following a step zooms in at least this far (text readable from afar)

/**
 * `layouts`: a layout client. Hooks: `status(text)` for slow layouts, `loaded(trace)` once a trace is in
 * (and again after a slow layout), `lines({step})` to mark the current line, `rendered(k)` after each step.
 */
// `checkNumerically(name)`: the server's finite-difference check of a leaf (absent in the standalone file).
export function createStage(doc, { layouts, status = () => {}, loaded = () => {}, lines = () => {}, rendered = () => {}, checkNumerically = null }) {
  const $ = (id) => doc.getElementById(id);
  const root = $("graph");
  const st = { trace: null, code: "", graph: null, tl: null, collapsed: new Set(), rankdir: "LR", autoDir: true, selected: null, follow: true, layout: null, state: null };
  const view = createGraphView(root, { onSelect: select, onToggleGroup: toggleGroup, onZoom: () => teach?.follow(), onMake: (el, d) => tooltip?.decorateOne(el, d) });
  const teach = createTeach(root, view);
  const tooltip = createTooltip(root, { graph: () => st.graph, state: () => st.state, open: (key) => select(key), elements: () => view.nodeElements() });
  const fd = createFdCheck(checkNumerically && ((name) => checkNumerically(name, st.code)));
  const quiz = createQuizView(root, { onChange: () => { refresh(); rendered(player.step); } });
  const player = new Player({ onStep: (k, why) => render(k, why), onChange: () => sync() });
  const sync = bindControls(doc, player, { onFit: () => view.fit(300) });
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
      relayout();
    });
    doc.defaultView.addEventListener("resize", () => { if (st.graph) view.fit(); measureSoon(); });
  }

  /**
   * Show a trace; resolves once it is drawn. `restore` (from a link) may set {step, collapsed, rankdir}:
   * step null means the start (or the end of a failed run).
   */
  let loadSeq = 0;
  async function load(compactOrFull, code, restore = {}) {
    const t0 = performance.now();
    const seq = ++loadSeq;
    const big = bigTrace(compactOrFull); // big traces: short tasks, not one long one
    layouts.newTrace(compactOrFull); // the layout worker expands its own copy
    if (big) await tick();
    const trace = expandTrace(compactOrFull); // the one place a trace enters: page, /embed, standalone file, notebook
    const graph = buildGraph(trace, { source: code });
    if (big) await tick();
    if (seq !== loadSeq) return;
    st.trace = trace; st.code = code;
    st.graph = graph;
    st.tl = buildTimeline(trace, st.graph);
    st.layout = null;
    st.autoDir = !restore.rankdir;
    if (restore.rankdir) st.rankdir = restore.rankdir;
    st.collapsed = Array.isArray(restore.collapsed) ? new Set(restore.collapsed.filter((k) => st.graph.groups.has(k)))
      : st.graph.nodes.size > BIG ? new Set(st.graph.groups.keys()) : new Set();
    const loops = loopView.load(trace, st.tl); // training loops: show one recorded iteration, the others folded
    jumpReady();
    if (big) await tick();
    if (seq !== loadSeq) return;
    if ($("modules")) $("modules").hidden = moduleGroups(st.graph).length === 0;
    select(null);
    loaded(trace);
    drawPassMarks($("scrub-marks"), st.tl);
    root.dataset.steps = String(st.tl.total);
    $("graph-empty").hidden = st.graph.nodes.size > 0;
    if (!st.graph.nodes.size) $("graph-empty").textContent = "This program made no tensors to draw.";
    if (restore.quiz !== undefined) quiz.set(!!restore.quiz);
    quiz.reset();
    fd.reset();
    const start = Number.isInteger(restore.step) ? Math.min(restore.step, st.tl.total) : trace.status === "error" ? st.tl.total : 0;
    if (foldsIterations(loops) && !Array.isArray(restore.collapsed)) st.collapsed = showIteration(st.graph, st.collapsed, (iterationAt(loops, start) ?? loops.iters[0]).key);
    player.load(st.tl.total, start);
    await relayout();
    root.dataset.loadMs = String(Math.round(performance.now() - t0));
    root.dataset.loads = String(Number(root.dataset.loads || 0) + 1); // tests wait on this
  }

  let layoutSeq = 0;
  async function relayout() {
    if (!st.graph) return;
    const seq = ++layoutSeq;
    const t0 = performance.now();
    const opts = { collapsed: st.collapsed, hints: st.tl.hints };
    const big = st.graph.nodes.size > 600;
    if (big) status(`Laying out ${st.graph.nodes.size.toLocaleString()} nodes…`);
    let layout = await layouts.layout(st.trace, st.graph, { ...opts, rankdir: st.rankdir });
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
    view.fit();
    render(player.step, "layout");
  }

  function toggleGroup(gk) {
    st.collapsed = new Set(st.collapsed);
    st.collapsed.has(gk) ? st.collapsed.delete(gk) : st.collapsed.add(gk);
    relayout();
  }

  function render(k, why) {
    if (!st.tl || !st.layout) return;
    const it = loopView.step(k);
    if (it && st.collapsed.has(it.key)) { st.collapsed = showIteration(st.graph, st.collapsed, it.key); relayout(); return; } // step k is in a folded iteration
    const state = (st.state = stateAt(st.tl, k, { source: st.code }));
    // The editor reads layout when it moves its line marks: first, while the page is still clean, not after the graph's writes.
    lines({ step: state.line, cause: state.problem?.cause?.line ?? state.warnings.find((w) => w.line)?.line ?? state.cuts[0]?.line ?? null });
    const animate = why === "play" || why === "forward";
    const minScale = doc.documentElement.classList.contains("presenter") ? PRESENTER_SCALE : 0;
    view.update(state, { animate, duration: Math.min(900, player.stepDuration * 0.85), follow: st.follow && (why !== "layout" || k > 0), minScale });
    const n = state.narration;
    const card = chainCard(st.tl, k, { source: st.code });
    const q = quiz.on ? question(card) : null;
    const hidden = quiz.show(q); // predicting: the card, the sent gradients and the narration wait for an answer
    teach.render(state, card, { hidden, tl: st.tl });
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

  /** Draw the current step again (after a change of presentation, e.g. presenter mode). */
  const refresh = () => render(player.step, "refresh");

  /** Move keyboard focus to the graph (after Run: → steps at once instead of moving the editor's cursor). */
  const focusGraph = () => view.svg.focus({ preventScroll: true });

  return { load, relayout, select, viewState, refresh, view, player, app: st, quiz, focusGraph };
}

function toggle(button, onChange) {
  button?.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    onChange(on);
  });
}
