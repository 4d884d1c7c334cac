// Wiring of the standalone HTML file (and the notebook view): one embedded trace, no server, no editor.
// The model/ and view/ modules do the work, exactly as on the page; only the data source differs.
import { buildGraph } from "./model/graph.js";
import { buildTimeline, stateAt } from "./model/timeline.js";
import { narrate } from "./model/narration.js";
import { layoutGraph } from "./model/layout.js";
import { Player } from "./model/player.js";
import { createGraphView } from "./view/graph-view.js";
import { createCodeView } from "./view/code-view.js";
import { bindControls, drawPassMarks } from "./view/controls.js";
import { renderPanel } from "./view/panel.js";
import { drawLegend } from "./view/legend.js";
import { showRunResult, setStatus } from "./view/run-status.js";
import { exportSvg } from "./view/svg-export.js";

const BIG = 300; // drawn nodes past which module groups start collapsed (as on the page)
const SLOW = 600; // drawn nodes past which the status says a layout is coming (it runs on this thread)

/** Start from the JSON block `#gradtrace-standalone` = {trace, code, title, step, theme}; resolves once drawn. */
export async function startStandalone(doc = document) {
  const $ = (id) => doc.getElementById(id);
  const cfg = JSON.parse($("gradtrace-standalone").textContent);
  const { trace, code = "" } = cfg;
  const root = $("graph");
  const app = { trace, code, collapsed: new Set(), rankdir: "LR", autoDir: true, selected: null, follow: true, layout: null, state: null };

  const codeView = createCodeView($("code"), code);
  const view = createGraphView(root, { onSelect: select, onToggleGroup: toggleGroup });
  const player = new Player({ onStep: (k, why) => render(k, why), onChange: () => sync() });
  const sync = bindControls(doc, player, { onFit: () => view.fit(300) });
  drawLegend($("legend"));
  wireTools();

  app.graph = buildGraph(trace);
  app.tl = buildTimeline(trace, app.graph);
  app.collapsed = app.graph.nodes.size > BIG ? new Set(app.graph.groups.keys()) : new Set();
  $("modules").hidden = app.graph.groups.size === 0;
  showRunResult(doc, trace, codeView);
  drawPassMarks($("scrub-marks"), app.tl);
  root.dataset.steps = String(app.tl.total);
  if (!app.graph.nodes.size) { $("graph-empty").hidden = false; $("graph-empty").textContent = "This program made no tensors to draw."; }
  player.load(app.tl.total, firstStep(cfg.step, app.tl.total, trace.status));
  await relayout();
  root.dataset.loads = "1"; // tests and the SVG exporter wait on this

  function wireTools() {
    $("fit").addEventListener("click", () => view.fit(300));
    $("zoom-in").addEventListener("click", () => view.zoomBy(1.3));
    $("zoom-out").addEventListener("click", () => view.zoomBy(1 / 1.3));
    $("panel-close").addEventListener("click", () => select(null));
    toggle($("legend-toggle"), (on) => { $("legend").hidden = !on; });
    toggle($("follow"), (on) => { app.follow = on; });
    toggle($("toggle-code"), (on) => {
      doc.body.classList.toggle("code-hidden", on);
      $("toggle-code").setAttribute("aria-label", on ? "Show code" : "Hide code");
      view.fit(250);
    });
    $("theme").setAttribute("aria-pressed", String(doc.documentElement.dataset.theme === "dark"));
    $("theme").addEventListener("click", () => {
      const dark = doc.documentElement.dataset.theme !== "dark";
      doc.documentElement.dataset.theme = dark ? "dark" : "light";
      $("theme").setAttribute("aria-pressed", String(dark));
    });
    $("direction").addEventListener("click", () => { app.rankdir = app.rankdir === "LR" ? "TB" : "LR"; app.autoDir = false; relayout(); });
    $("modules").addEventListener("click", () => {
      app.collapsed = app.collapsed.size ? new Set() : new Set(app.graph.groups.keys());
      relayout();
    });
    doc.defaultView.addEventListener("resize", () => app.layout && view.fit());
  }

  async function relayout() {
    const opts = { collapsed: app.collapsed, hints: app.tl.hints };
    if (app.graph.nodes.size > SLOW) { // let the status paint before the (synchronous) layout
      setStatus(doc, `Laying out ${app.graph.nodes.size.toLocaleString()} nodes…`, "busy");
      await new Promise((r) => setTimeout(r, 30));
    }
    let layout = layoutGraph(app.graph, { ...opts, rankdir: app.rankdir });
    if (app.autoDir && app.graph.nodes.size < 250) { // small graphs: whichever direction fits the pane bigger
      const flip = app.rankdir === "LR" ? "TB" : "LR";
      const other = layoutGraph(app.graph, { ...opts, rankdir: flip });
      if (view.fitScale(other) > view.fitScale(layout) * 1.05) { layout = other; app.rankdir = flip; }
    }
    if (app.graph.nodes.size > SLOW) showRunResult(doc, trace, codeView);
    $("direction").textContent = app.rankdir === "LR" ? "→" : "↓";
    $("modules").setAttribute("aria-pressed", String(app.collapsed.size > 0));
    app.layout = layout;
    view.setModel(app.graph, layout);
    view.fit();
    render(player.step, "layout");
  }

  function toggleGroup(gk) {
    app.collapsed = new Set(app.collapsed);
    app.collapsed.has(gk) ? app.collapsed.delete(gk) : app.collapsed.add(gk);
    relayout();
  }

  function render(k, why) {
    if (!app.layout) return;
    const state = (app.state = stateAt(app.tl, k));
    const animate = why === "play" || why === "forward";
    view.update(state, { animate, duration: Math.min(900, player.stepDuration * 0.85), follow: app.follow && (why !== "layout" || k > 0) });
    const n = narrate(app.tl, k, { source: code });
    $("narration-title").textContent = n.title;
    $("narration").textContent = n.text;
    root.dataset.step = String(k);
    codeView.showLines({ step: state.line });
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
      graph: app.graph, trace, state: app.state, source: code, onSelect: (key) => { select(key); view.focus(key, 400); },
    });
  }

  /** The whole graph at the current step as a self-contained SVG string. */
  function svg() {
    view.fit(); // everything in view: nothing culled or detached
    const bg = doc.defaultView.getComputedStyle(root).backgroundColor;
    return exportSvg(view.svg, { width: app.layout.width, height: app.layout.height, title: cfg.title || "", background: bg });
  }

  return { player, view, app, svg };
}

// Where playback starts: a number, "end", or (default) the beginning, or the end of a failed run.
function firstStep(step, total, status) {
  if (step === "end") return total;
  if (Number.isInteger(step)) return Math.max(0, Math.min(total, step));
  return status === "error" ? total : 0;
}

function toggle(button, onChange) {
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    onChange(on);
  });
}
