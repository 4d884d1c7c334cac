// App wiring: editor + gallery + Run → trace → graph, timeline, narration, player. Everything else is
// in the pure model/ modules and the view/ renderers, so other pages (embed, export) can reuse them.
import { buildGraph } from "./model/graph.js";
import { buildTimeline, stateAt } from "./model/timeline.js";
import { narrate } from "./model/narration.js";
import { createLayoutClient } from "./layout-client.js";
import { Player } from "./model/player.js";
import { fetchExamples, runTrace } from "./api.js";
import { createEditor } from "./view/editor.js";
import { createGraphView } from "./view/graph-view.js";
import { bindControls, drawPassMarks } from "./view/controls.js";
import { renderPanel } from "./view/panel.js";
import { initTheme } from "./view/theme.js";
import { drawLegend } from "./view/legend.js";
import { showRunResult, setStatus } from "./view/run-status.js";

const BIG = 300; // drawn nodes past which module groups start collapsed

export async function startApp(doc = document) {
  const config = JSON.parse(doc.getElementById("gradtrace-config").textContent);
  const $ = (id) => doc.getElementById(id);
  const root = $("graph");
  let inflight = null;
  const app = { trace: null, code: "", graph: null, tl: null, collapsed: new Set(), rankdir: "LR", autoDir: true, selected: null, follow: true };

  initTheme($("theme"));
  drawLegend($("legend"));
  const editor = createEditor($("editor"), {
    onRun: () => run(), nonce: config.styleNonce,
    onEdit: () => { if ($("gallery").value) { $("gallery").value = ""; $("example-description").textContent = ""; } },
  });
  const view = createGraphView(root, { onSelect: select, onToggleGroup: toggleGroup });
  const layouts = createLayoutClient();
  const player = new Player({ onStep: (k, why) => render(k, why), onChange: () => sync() });
  const sync = bindControls(doc, player, { onFit: () => view.fit(300) });

  $("run").addEventListener("click", () => run());
  $("fit").addEventListener("click", () => view.fit(300));
  $("zoom-in").addEventListener("click", () => view.zoomBy(1.3));
  $("zoom-out").addEventListener("click", () => view.zoomBy(1 / 1.3));
  $("panel-close").addEventListener("click", () => select(null));
  $("help").addEventListener("click", () => $("help-dialog").showModal());
  toggle($("legend-toggle"), (on) => { $("legend").hidden = !on; });
  toggle($("follow"), (on) => { app.follow = on; });
  toggle($("toggle-code"), (on) => {
    doc.body.classList.toggle("code-hidden", on);
    $("toggle-code").setAttribute("aria-label", on ? "Show code" : "Hide code");
    view.fit(250);
  });
  $("direction").addEventListener("click", () => {
    app.rankdir = app.rankdir === "LR" ? "TB" : "LR";
    app.autoDir = false;
    relayout();
  });
  $("modules").addEventListener("click", () => {
    app.collapsed = app.collapsed.size ? new Set() : new Set(app.graph.groups.keys());
    relayout();
  });
  window.addEventListener("resize", () => app.graph && view.fit());

  const gallery = $("gallery");
  let examples = [];
  try {
    examples = await fetchExamples(config.api);
    gallery.replaceChildren(...[new Option("— your own program —", ""), ...examples.map((e) => new Option(e.title, e.id))]);
  } catch (err) {
    gallery.replaceChildren(new Option("gallery unavailable", ""));
    setStatus(doc, err.message, "error");
  }
  gallery.addEventListener("change", () => {
    const ex = examples.find((e) => e.id === gallery.value);
    if (ex) { pick(ex); run(); }
  });
  const first = examples.find((e) => e.id === config.defaultExample) ?? examples[0];
  if (first) { gallery.value = first.id; pick(first); run(); }

  function pick(ex) {
    editor.setCode(ex.code);
    $("example-description").textContent = ex.description || "";
  }

  async function run() {
    inflight?.abort();
    const ctrl = (inflight = new AbortController());
    const code = editor.code;
    setStatus(doc, "Running…", "busy");
    $("run").disabled = true;
    try {
      const trace = await runTrace(config.api, code, Math.trunc(Number($("seed").value)) || 0, ctrl.signal);
      if (ctrl.signal.aborted) return;
      load(trace, code);
    } catch (err) {
      if (err.name !== "AbortError") setStatus(doc, err.message, "error");
    } finally {
      if (inflight === ctrl) { $("run").disabled = false; inflight = null; }
    }
  }

  /** Show a trace (also the entry point for tests and future embeds); resolves once it is drawn. */
  async function load(trace, code) {
    const t0 = performance.now();
    app.trace = trace; app.code = code;
    app.graph = buildGraph(trace);
    app.tl = buildTimeline(trace, app.graph);
    app.layout = null;
    app.autoDir = true;
    app.collapsed = app.graph.nodes.size > BIG ? new Set(app.graph.groups.keys()) : new Set();
    layouts.newTrace();
    $("modules").hidden = app.graph.groups.size === 0;
    select(null);
    showRunResult(doc, trace, editor);
    drawPassMarks($("scrub-marks"), app.tl);
    root.dataset.steps = String(app.tl.total);
    $("graph-empty").hidden = app.graph.nodes.size > 0;
    if (!app.graph.nodes.size) $("graph-empty").textContent = "This program made no tensors to draw.";
    player.load(app.tl.total, trace.status === "error" ? app.tl.total : 0);
    await relayout();
    root.dataset.loadMs = String(Math.round(performance.now() - t0));
    root.dataset.loads = String(Number(root.dataset.loads || 0) + 1); // tests wait on this
  }

  let layoutSeq = 0;
  async function relayout() {
    if (!app.graph) return;
    const seq = ++layoutSeq;
    const t0 = performance.now();
    const opts = { collapsed: app.collapsed, hints: app.tl.hints };
    const big = app.graph.nodes.size > 600;
    if (big) setStatus(doc, `Laying out ${app.graph.nodes.size.toLocaleString()} nodes…`, "busy");
    let layout = await layouts.layout(app.trace, app.graph, { ...opts, rankdir: app.rankdir });
    if (app.autoDir && app.graph.nodes.size < 250) { // small graphs: take whichever direction fits the pane bigger
      const flip = app.rankdir === "LR" ? "TB" : "LR";
      const other = await layouts.layout(app.trace, app.graph, { ...opts, rankdir: flip });
      if (view.fitScale(other) > view.fitScale(layout) * 1.05) { layout = other; app.rankdir = flip; }
    }
    if (seq !== layoutSeq) return; // a newer trace or toggle won
    if (big) showRunResult(doc, app.trace, editor);
    root.dataset.layoutMs = String(Math.round(performance.now() - t0));
    $("direction").textContent = app.rankdir === "LR" ? "→" : "↓";
    app.layout = layout;
    view.setModel(app.graph, layout);
    $("modules").setAttribute("aria-pressed", String(app.collapsed.size > 0));
    view.fit();
    render(player.step, "layout");
  }

  function toggleGroup(gk) {
    app.collapsed = new Set(app.collapsed);
    app.collapsed.has(gk) ? app.collapsed.delete(gk) : app.collapsed.add(gk);
    relayout();
  }

  function render(k, why) {
    if (!app.tl || !app.layout) return;
    const state = stateAt(app.tl, k);
    app.state = state;
    const animate = why === "play" || why === "forward";
    view.update(state, { animate, duration: Math.min(900, player.stepDuration * 0.85), follow: app.follow && (why !== "layout" || k > 0) });
    const n = narrate(app.tl, k, { source: app.code });
    $("narration-title").textContent = n.title;
    $("narration").textContent = n.text;
    root.dataset.step = String(k);
    editor.showLines({ step: state.line });
    if (app.selected) showPanel();
  }

  function select(key) {
    app.selected = key;
    view.select(key);
    $("panel").hidden = !key;
    if (key) showPanel();
  }

  function showPanel() {
    renderPanel($("panel-body"), app.selected, {
      graph: app.graph, trace: app.trace, state: app.state, source: app.code, onSelect: (key) => { select(key); view.focus(key, 400); },
    });
  }

  return { load, run, player, view, editor, app };
}

function toggle(button, onChange) {
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    onChange(on);
  });
}
