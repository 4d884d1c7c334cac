// App wiring: editor + gallery + Run → trace → the graph stage; the URL mirrors what is on screen
// (share links), and the Share dialog, presenter mode and downloads hang off it. Logic lives in model/ and view/.
import { createLayoutClient } from "./layout/client.js";
import { createStage } from "./stage.js";
import { createUrlSync, readLocation } from "./url-sync.js";
import { encodeState } from "./wire/url-state.js";
import { checkNumerically, createSnippet, exportHtml, fetchExamples, fetchSnippet, runTrace, snippetTrace } from "./api.js";
import { createEditor } from "./view/editor.js";
import { initTheme } from "./view/theme.js";
import { initPresenter } from "./view/presenter.js";
import { bindShareDialog } from "./view/share-dialog.js";
import { baseName, graphSvg, saveBlob, svgToPng } from "./view/downloads.js";
import { showRunResult, setStatus } from "./view/run-status.js";
import { showWaiting } from "./view/wait-status.js";
import { classCodeOf, wireFollow, wireHost } from "./class-session.js";

export async function startApp(doc = document) {
  const config = JSON.parse(doc.getElementById("gradtrace-config").textContent);
  const win = doc.defaultView;
  const $ = (id) => doc.getElementById(id);
  let inflight = null, seed = 0, title = "";
  const classCode = classCodeOf(win.location, config); // /c/<code>: this page follows a lecturer

  initTheme($("theme"));
  const editor = createEditor($("editor"), {
    onRun: () => run(), nonce: config.styleNonce,
    onEdit: () => { keepExample(); markStale(); },
  });
  const stage = createStage(doc, {
    layouts: createLayoutClient(),
    status: (text) => setStatus(doc, text, "busy"),
    loaded: (trace) => { showRunResult(doc, trace, editor); markStale(); },
    lines: (l) => editor.showLines(l),
    rendered: (k) => { urls.schedule(); live?.rendered(k); follower?.shown(k); },
    checkNumerically: (name, code) => checkNumerically(config.api, code, seed, name),
  });
  const { view, player, app } = stage;
  const shared = () => app.trace && { code: app.code, seed, theme: doc.documentElement.dataset.theme, presenter: presenter.get(), ...stage.viewState() };
  const urls = createUrlSync(win, shared, { onExternal: (s) => open(s) });
  const presenter = initPresenter(doc, $("presenter"), () => { view.fit(); stage.refresh(); urls.schedule(); });
  $("theme").addEventListener("click", () => urls.schedule());

  // Live edit: an edit not yet run marks the graph out of date at once; Run keeps the step where it still exists.
  const staleNote = Object.assign(doc.createElement("p"), { id: "stale-note", className: "stale-note", hidden: true,
    textContent: "Edited: the graph still shows the last run. Run to update it (the step is kept where the line still runs)." });
  staleNote.setAttribute("role", "status");
  $("graph").append(staleNote);
  const markStale = () => {
    const stale = !!app.trace && editor.code !== app.code;
    $("graph").dataset.stale = String(stale);
    staleNote.hidden = !stale;
  };
  const live = classCode ? null : wireHost(doc, { config, stage, program: () => (app.trace ? { code: app.code, seed } : null) });
  const follower = classCode ? wireFollow(doc, {
    config, code: classCode, stage,
    onProgram: (p) => { editor.setCode(p.code); $("seed").value = String(p.seed); seed = p.seed; $("gallery").value = ""; },
    status: (text) => setStatus(doc, text, text ? "busy" : ""),
  }) : null;

  $("run").addEventListener("click", () => run());
  $("help").addEventListener("click", () => $("help-dialog").showModal());
  bindShareDialog(doc, {
    link: async () => (app.trace ? new URL(`/${await urls.now()}`, win.location.href).href : ""),
    embedSrc: async () => new URL(`/embed${await urls.now()}`, win.location.href).href,
    // The stored program and seed, plus the step and view in a small fragment (it survives the /s/ redirect).
    shorten: async () => new URL(`${(await createSnippet(config.api, app.code, seed)).url}#${await encodeState({ ...shared(), code: null, seed: 0 })}`, win.location.href).href,
    download,
  });

  const gallery = $("gallery");
  let examples = [];
  const linked = readLocation(win.location, (id) => fetchSnippet(config.api, id)).catch(() => ({ state: { code: null }, damaged: true }));
  try {
    examples = await fetchExamples(config.api);
    gallery.replaceChildren(...[new Option("— your own program —", ""), ...examples.map((e) => new Option(e.title, e.id))]);
  } catch (err) {
    gallery.replaceChildren(new Option("gallery unavailable", ""));
    setStatus(doc, err.message, "error");
  }
  gallery.addEventListener("change", () => {
    const ex = examples.find((e) => e.id === gallery.value);
    if (ex) { pick(ex); run({}); }
  });
  const { state, damaged, snippet } = await linked;
  if (follower) { /* the lecturer's program arrives by the class session */ } else if (state.code !== null) open(state, snippet);
  else {
    const first = examples.find((e) => e.id === config.defaultExample) ?? examples[0];
    if (first) { gallery.value = first.id; pick(first); run({}); }
    if (damaged) $("example-description").textContent = "That link is damaged, unknown here or from a newer gradtrace: showing an example instead.";
  }

  // The example's title and description stay only while the editor holds its code (an edit, a paste or an undo away
  // from it takes them off).
  function keepExample() {
    const ex = examples.find((e) => e.id === gallery.value);
    if (ex && editor.code !== ex.code) { gallery.value = ""; $("example-description").textContent = ""; }
  }

  function pick(ex) {
    editor.setCode(ex.code);
    $("example-description").textContent = ex.description || "";
    title = ex.title;
  }

  /** Show what a link describes: its program, seed, step, groups, direction, theme and presenter flag. */
  function open(s, snippet = null) {
    const ex = examples.find((e) => e.code === s.code);
    gallery.value = ex ? ex.id : "";
    if (ex) pick(ex); else { editor.setCode(s.code); $("example-description").textContent = ""; title = ""; }
    $("seed").value = String(s.seed);
    if (s.theme) doc.documentElement.dataset.theme = s.theme; // for this view only: the saved preference stays
    $("theme").setAttribute("aria-pressed", String(doc.documentElement.dataset.theme === "dark"));
    presenter.set(!!s.presenter);
    run({ step: s.step, collapsed: s.collapsed, rankdir: s.rankdir, quiz: s.quiz }, snippet);
  }

  /** Trace the editor's program (a short link's first run: its cacheable GET), waiting out a busy server. */
  async function run(restore = null, snippet = null) {
    inflight?.abort();
    const ctrl = (inflight = new AbortController());
    const code = editor.code;
    // Re-running an edited program (not a link or a gallery pick) keeps the step on the same line and op.
    if (!restore) restore = $("graph").dataset.stale === "true" && app.tl ? { carry: { tl: app.tl, code: app.code, step: player.step } } : {};
    follower?.detach(); // a student running a program of their own stops following until "Rejoin live"
    const runSeed = Number($("seed").value) || 0;
    setStatus(doc, "Running…", "busy");
    $("run").disabled = true;
    try {
      const onWait = (s) => showWaiting(doc, s, () => ctrl.abort());
      const trace = (snippet && await snippetTrace(config.api, snippet, { signal: ctrl.signal, onWait }))
        || await runTrace(config.api, code, runSeed, ctrl.signal, { keys: config.traceKeys, onWait });
      if (ctrl.signal.aborted) return;
      seed = runSeed;
      if (!gallery.value) title = "";
      await stage.load(trace, code, restore);
      markStale();
      stage.focusGraph();
    } catch (err) {
      if (err.name !== "AbortError") setStatus(doc, err.message, "error");
      else if (inflight === ctrl) setStatus(doc, "Cancelled.", "");
    } finally {
      if (inflight === ctrl) { $("run").disabled = false; inflight = null; }
    }
  }

  async function download(kind) {
    if (!app.layout) throw new Error("Run a program first.");
    const name = baseName(title || "graph");
    if (kind === "html") {
      const { blob, name: file } = await exportHtml(config.api, { code: app.code, seed, step: player.step, theme: doc.documentElement.dataset.theme, title });
      return saveBlob(doc, blob, file);
    }
    const svg = graphSvg(view, app.layout, $("graph"), title || "gradtrace");
    if (kind === "svg") return saveBlob(doc, new Blob([svg], { type: "image/svg+xml" }), `${name}-step${player.step}.svg`);
    saveBlob(doc, await svgToPng(doc, svg), `${name}-step${player.step}.png`);
  }

  /** Show any trace (tests, benchmarks); resolves once drawn. The URL then describes `code`. */
  const load = (trace, code, restore) => stage.load(trace, code, restore);
  return { load, run, player, view, editor, app, urls };
}
