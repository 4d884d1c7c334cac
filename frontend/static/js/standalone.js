// Wiring of the standalone HTML file (and the notebook view): one embedded trace, no server, no editor.
// The stage is the page's own (stage.js); only the data source, the code listing and the layout's thread differ.
import { layoutGraph } from "./layout/layout.js";
import { createStage } from "./stage.js";
import { createCodeView } from "./view/code-view.js";
import { showRunResult, setStatus } from "./view/run-status.js";
import { exportSvg } from "./view/svg-export.js";

const SLOW = 600; // drawn nodes past which the stage announces a layout (same threshold as the page)

// A file:// page cannot start a module Worker from a separate file: lay out on this thread.
const inlineLayouts = {
  newTrace() {},
  async layout(trace, graph, options) {
    if (graph.nodes.size > SLOW) await new Promise((r) => setTimeout(r, 30)); // let the status line paint first
    return layoutGraph(graph, options);
  },
};

/** Start from the JSON block `#gradtrace-standalone` = {trace, code, title, step, theme}; resolves once drawn. */
export async function startStandalone(doc = document) {
  const $ = (id) => doc.getElementById(id);
  const cfg = JSON.parse($("gradtrace-standalone").textContent);
  const { trace, code = "" } = cfg;
  const codeView = createCodeView($("code"), code);
  const stage = createStage(doc, {
    layouts: inlineLayouts,
    status: (text) => setStatus(doc, text, "busy"),
    loaded: (t) => showRunResult(doc, t, codeView),
    lines: (marks) => codeView.showLines(marks),
  });
  wireTheme();
  await stage.load(trace, code, { step: cfg.step === "end" ? Number.MAX_SAFE_INTEGER : cfg.step });

  function wireTheme() { // the page has its own theme module; this file only flips the attribute
    $("theme").setAttribute("aria-pressed", String(doc.documentElement.dataset.theme === "dark"));
    $("theme").addEventListener("click", () => {
      const dark = doc.documentElement.dataset.theme !== "dark";
      doc.documentElement.dataset.theme = dark ? "dark" : "light";
      $("theme").setAttribute("aria-pressed", String(dark));
    });
  }

  /** The whole graph at the current step as a self-contained SVG string. */
  function svg() {
    stage.view.complete?.(); // big graphs: every node drawn in full, none left to the overview canvas
    stage.view.fit(); // everything in view: nothing culled or detached
    const bg = doc.defaultView.getComputedStyle($("graph")).backgroundColor;
    const { width, height } = stage.app.layout;
    return exportSvg(stage.view.svg, { width, height, title: cfg.title || "", background: bg });
  }

  return { player: stage.player, view: stage.view, app: stage.app, svg };
}
