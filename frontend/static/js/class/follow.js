// A follower's side of a class session: the lecturer's program, step and view arrive by SSE (resumed after a
// reconnect from the last event id, else the current state) and are applied to the stage while following.
// A student who steps on their own stops following until "Rejoin live". The trace comes from the trace cache.
import { getClass } from "./api.js";

const REOPEN_MS = 1000; // after the browser gave up on a stream: read the state and reopen in 1–2 s

/**
 * `stage`: {load(trace, code, restore), applyView(view), player, app}. `loadTrace(view)` → the program's trace
 * (by view.trace_key, else its cacheable run). Hooks: `onStatus({following, live, shown, ended, error})`,
 * `onQuestion(q)`, `onTally(t)`, `onReveal(t)`, `onProgram(program)` (the lecturer's code, for the editor).
 */
export function createFollow({ base, code, stage, loadTrace, fetchImpl = (...a) => fetch(...a), EventSourceImpl = globalThis.EventSource, timers = globalThis,
  onStatus = () => {}, onQuestion = () => {}, onTally = () => {}, onReveal = () => {}, onProgram = () => {} }) {
  const st = { live: null, following: true, loaded: null, loading: null, applying: false, ended: false, error: null, source: null, question: null };
  const programKey = (p) => (p ? `${p.seed}\n${p.code}` : null);

  const status = () => onStatus({ following: st.following, live: st.live?.state?.step ?? null, shown: stage.player.step, ended: st.ended, error: st.error, followers: st.live?.followers });

  /** A view of the session (GET or a `state` event): newer than what we have → follow it. */
  function accept(view) {
    if (!view || st.ended) return;
    if (view.ended) return end();
    if (st.live && Number.isInteger(view.seq) && view.seq <= st.live.seq) return;
    st.live = view;
    if (view.question !== undefined) question(view.question);
    if (programKey(view.program) !== st.loaded) loadLive();
    else if (st.following && !st.loading) apply();
    status();
  }

  /** Load the lecturer's program (one at a time; the newest wins), then catch up with the live step. */
  async function loadLive() {
    if (st.loading) return;
    const view = st.live;
    st.loading = programKey(view.program);
    try {
      onProgram(view.program);
      const trace = await loadTrace(view);
      const old = stage.app.tl && { tl: stage.app.tl, code: stage.app.code, step: stage.player.step };
      st.applying = true;
      // Following: the lecturer's step. Away: the student's own step, carried to the same line and op.
      const v = view.state.view || {};
      const restore = st.following ? { step: view.state.step, collapsed: v.collapsed, open: v.open, rankdir: v.rankdir } : { carry: old };
      await stage.load(trace, view.program.code, restore);
      st.loaded = st.loading;
      st.error = null;
    } catch (err) {
      st.error = err.message || String(err);
    } finally {
      st.applying = false;
      st.loading = null;
    }
    if (programKey(st.live.program) !== st.loaded && !st.error) return loadLive();
    if (st.following) apply();
    status();
  }

  /** Show the live step and view. */
  function apply() {
    if (!st.live || st.loading) return;
    st.applying = true;
    try {
      stage.applyView(st.live.state.view || {});
      stage.player.pause();
      stage.player.seek(st.live.state.step, "live");
    } finally { st.applying = false; }
    status();
  }

  /** The stage drew step k: a step the student took (not one we applied) means they stepped away. */
  function shown(k) {
    if (!st.applying && !st.loading && st.following && st.live && k !== st.live.state.step && st.loaded) st.following = false;
    status();
  }

  function rejoin() {
    st.following = true;
    if (st.live && programKey(st.live.program) !== st.loaded) loadLive(); else apply();
    status();
  }

  /** The student ran a program of their own: no longer following; "Rejoin live" reloads the lecturer's. */
  function detach() {
    st.following = false;
    st.loaded = null;
    status();
  }

  function question(q) {
    if (JSON.stringify(q) === JSON.stringify(st.question)) return;
    st.question = q;
    onQuestion(q);
  }

  function end() {
    st.ended = true;
    st.error = null; // a reconnect notice is moot now
    st.following = false;
    st.source?.close();
    status();
  }

  function parse(ev) { try { return JSON.parse(ev.data || "null"); } catch { return null; } }

  /** Open the session: its current state, then the event stream (the browser resumes it after a drop). */
  async function start() {
    try {
      accept(await getClass(base, code, fetchImpl));
    } catch (err) {
      st.error = err.message; st.ended = err.status === 404 || err.status === 410;
      status();
      if (st.ended) return;
    }
    listen();
  }

  function listen() {
    if (!EventSourceImpl || st.ended) return;
    const src = (st.source = new EventSourceImpl(`${base}/classes/${encodeURIComponent(code)}/events`));
    src.addEventListener("state", (ev) => accept(parse(ev)));
    src.addEventListener("question", (ev) => { const q = parse(ev); question(q && q.id ? q : null); });
    src.addEventListener("tally", (ev) => onTally(parse(ev)));
    src.addEventListener("reveal", (ev) => { const t = parse(ev); if (st.question && t?.id === st.question.id) st.question = { ...st.question, revealed: true, correct: t.correct }; onReveal(t); });
    src.addEventListener("end", () => end());
    src.addEventListener("open", () => { if (st.error) { st.error = null; status(); } });
    src.addEventListener("error", () => {
      if (st.ended || src !== st.source) return;
      st.error = "Reconnecting…";
      status();
      // The browser retries a dropped stream by itself, but gives up on an HTTP error (a proxy's 502 while a
      // replica is replaced, a 429): then read the state again and open a new stream, a little later.
      if (src.readyState === 2) timers.setTimeout(reopen, REOPEN_MS + Math.random() * REOPEN_MS);
    });
  }

  async function reopen() {
    if (st.ended) return;
    try {
      accept(await getClass(base, code, fetchImpl));
    } catch (err) {
      if (err.status === 404 || err.status === 410) { end(); st.error = err.message; status(); return; }
      timers.setTimeout(reopen, 2 * REOPEN_MS + Math.random() * REOPEN_MS); // still unreachable: wait longer
      return;
    }
    listen();
  }

  return { start, shown, rejoin, detach, get following() { return st.following; }, get live() { return st.live; }, get ended() { return st.ended; }, get question() { return st.question; } };
}
