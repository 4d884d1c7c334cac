// /embed (the page for <iframe>s): the program, seed, step and view come from the URL fragment (or a short
// link's ?s=<id>); the stage shows them with no editor. Loaded as a module by embed.html and starts itself.
import { createLayoutClient } from "./layout/client.js";
import { createStage } from "./stage.js";
import { createUrlSync, readLocation } from "./url-sync.js";
import { checkNumerically, fetchSnippet, runTrace, snippetTrace } from "./api.js";
import { setStatus } from "./view/run-status.js";
import { showWaiting } from "./view/wait-status.js";

export async function startEmbed(doc = document) {
  const config = JSON.parse(doc.getElementById("gradtrace-config").textContent);
  const win = doc.defaultView;
  const $ = (id) => doc.getElementById(id);
  const { state, damaged, snippet } = await readLocation(win.location, (id) => fetchSnippet(config.api, id))
    .catch(() => ({ state: { code: null }, damaged: true }));

  const dark = state.theme ? state.theme === "dark" : win.matchMedia?.("(prefers-color-scheme: dark)").matches;
  doc.documentElement.dataset.theme = dark ? "dark" : "light";
  doc.documentElement.classList.toggle("presenter", !!state.presenter);

  const stage = createStage(doc, {
    layouts: createLayoutClient(),
    status: (text) => setStatus(doc, text, "busy"),
    loaded: (trace) => setStatus(doc, trace.status === "ok" ? "" : `Stopped: ${trace.error?.kind ?? "error"}`, trace.status === "ok" ? "" : "error"),
    rendered: () => urls.schedule(),
    checkNumerically: (name, code) => checkNumerically(config.api, code, state.seed, name),
  });
  const shared = () => stage.app.trace && { ...state, ...stage.viewState() };
  // The frame's own address stays as the host page wrote it; only the "open" link follows the steps.
  const urls = createUrlSync(win, shared, { write: false });
  urls.onWrite((frag) => { $("open-full").href = new URL(`/${frag}`, win.location.href).href; });

  if (state.code === null) {
    $("graph-empty").textContent = damaged ? "This embed link is damaged or from a newer gradtrace." : "No program in this link: make one with Share → Copy embed code.";
    return stage;
  }
  try {
    setStatus(doc, "Running…", "busy");
    // A class opening one link: cacheable GETs, and a busy server is waited out with a countdown.
    const onWait = (s) => showWaiting(doc, s);
    const trace = (snippet && await snippetTrace(config.api, snippet, { onWait }))
      || await runTrace(config.api, state.code, state.seed, undefined, { keys: config.traceKeys, onWait });
    await stage.load(trace, state.code, { step: state.step, collapsed: state.collapsed, rankdir: state.rankdir, quiz: state.quiz });
  } catch (err) {
    $("graph-empty").textContent = err.message;
    setStatus(doc, "", "");
  }
  return stage;
}

startEmbed().then((stage) => { window.gradtrace = stage; }).catch((err) => {
  document.getElementById("graph-empty").textContent = `The embed failed to start: ${err.message}`;
  throw err;
});
