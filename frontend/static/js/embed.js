// /embed (the page for <iframe>s): the program, seed, step and view come from the URL fragment (or a short
// link's ?s=<id>); the stage shows them with no editor. Loaded as a module by embed.html and starts itself.
import { createLayoutClient } from "./layout/client.js";
import { createStage } from "./stage.js";
import { createUrlSync, readLocation } from "./url-sync.js";
import { checkNumerically, fetchSnippet, runTrace, snippetTrace } from "./api.js";
import { setStatus } from "./view/run-status.js";
import { showWaiting } from "./view/wait-status.js";
import { bindEmbedMessages } from "./embed-messages.js";
import { classCodeOf, wireFollow } from "./class-session.js";

export async function startEmbed(doc = document) {
  const config = JSON.parse(doc.getElementById("gradtrace-config").textContent);
  const win = doc.defaultView;
  const $ = (id) => doc.getElementById(id);
  const { state, damaged, snippet } = await readLocation(win.location, (id) => fetchSnippet(config.api, id))
    .catch(() => ({ state: { code: null }, damaged: true }));

  const dark = state.theme ? state.theme === "dark" : win.matchMedia?.("(prefers-color-scheme: dark)").matches;
  doc.documentElement.dataset.theme = dark ? "dark" : "light";
  doc.documentElement.classList.toggle("presenter", !!state.presenter);

  const params = new URLSearchParams(win.location.search);
  const classCode = classCodeOf({ pathname: "", search: win.location.search }, config); // /embed?class=<code>
  let messages = null, follower = null;
  const stage = createStage(doc, {
    layouts: createLayoutClient(),
    status: (text) => setStatus(doc, text, "busy"),
    loaded: (trace) => setStatus(doc, trace.status === "ok" ? "" : `Stopped: ${trace.error?.kind ?? "error"}`, trace.status === "ok" ? "" : "error"),
    rendered: (k) => { urls.schedule(); messages?.rendered(k); follower?.shown(k); },
    checkNumerically: (name, code) => checkNumerically(config.api, code, state.seed, name),
    passKey: (key) => messages?.passKey(key) ?? false, // the clicker belongs to the slides
  });
  messages = bindEmbedMessages(win, stage, {
    keys: params.get("keys") === "1",
    extra: () => (follower ? { class: classCode, following: follower.follow.following } : {}),
  });
  const shared = () => stage.app.trace && { ...state, ...stage.viewState() };
  // The frame's own address stays as the host page wrote it; only the "open" link follows the steps.
  const urls = createUrlSync(win, shared, { write: false });
  urls.onWrite((frag) => { $("open-full").href = new URL(`/${frag}`, win.location.href).href; });

  if (classCode) { // joined to a class session: the lecturer's program, step and view
    follower = wireFollow(doc, { config, code: classCode, stage, status: (text) => setStatus(doc, text, text ? "busy" : "") });
    messages.ready();
    return stage;
  }
  if (state.code === null) {
    messages.ready();
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
  messages.ready();
  return stage;
}

startEmbed().then((stage) => { window.gradtrace = stage; }).catch((err) => {
  document.getElementById("graph-empty").textContent = `The embed failed to start: ${err.message}`;
  throw err;
});
