// The lecturer's side of a class session: start it, keep the presenter token in this tab (sessionStorage), send
// every step and view change (latest wins, one request in flight, in order), ask, reveal, end; tallies come by SSE.
import { createClass, endClass, getClass, getTally, openQuestion, putState, revealAnswer } from "./api.js";

const KEY = "gradtrace.class.host";
export const PUBLISH_GAP_MS = 80; // at most ~12 state updates a second while the lecturer plays or holds →

/**
 * `base`: the API root. Hooks: `onEvent(type, data)` for the session's events (state, tally, reveal, end),
 * `onChange(session|null)` when a session starts, resumes or ends, `onError(err)` when a send fails.
 */
export function createHost({ base, storage, fetchImpl = (...a) => fetch(...a), EventSourceImpl = globalThis.EventSource,
  timers = globalThis, onEvent = () => {}, onChange = () => {}, onError = () => {} }) {
  let session = null, source = null;
  let sent = { program: null, key: null, state: null }, pending = null, inflight = false, last = 0, timer = null;

  const save = () => { try { session ? storage?.setItem(KEY, JSON.stringify(session)) : storage?.removeItem(KEY); } catch { /* blocked */ } };

  function listen() {
    source?.close();
    if (!session || !EventSourceImpl) return;
    source = new EventSourceImpl(session.events_url);
    for (const type of ["state", "question", "tally", "reveal", "end"]) {
      source.addEventListener(type, (ev) => {
        let data = {};
        try { data = JSON.parse(ev.data || "{}"); } catch { /* a comment or damage: ignore */ }
        if (type === "end") stop();
        onEvent(type, data);
      });
    }
    const src = source;
    src.addEventListener("error", () => { // the browser gave up (an HTTP error): open a new stream shortly
      if (src.readyState === 2 && src === source && session) timers.setTimeout(() => { if (src === source && session) listen(); }, 1500);
    });
  }

  function stop() {
    source?.close(); source = null;
    session = null; pending = null;
    timers.clearTimeout(timer); timer = null;
    save();
    onChange(null);
  }

  /** Start a session showing `program` ({code, seed}) at `state` ({step, view}); resolves to the session. */
  async function start(program, traceKey, state) {
    const made = await createClass(base, program, state, traceKey, fetchImpl);
    session = { code: made.code, token: made.presenter_token, join_url: made.join_url, events_url: made.events_url || `${base}/classes/${made.code}/events`, expires_in: made.expires_in };
    sent = { program: JSON.stringify(program), key: traceKey, state: JSON.stringify(state) };
    save();
    listen();
    onChange(session);
    return session;
  }

  /** A session this tab started before a reload, if the server still has it. */
  async function resume() {
    let saved = null;
    try { saved = JSON.parse(storage?.getItem(KEY) || "null"); } catch { /* damaged */ }
    if (!saved?.code || !saved?.token) return null;
    try {
      const view = await getClass(base, saved.code, fetchImpl);
      if (view.ended) throw new Error("ended");
      session = saved;
      sent = { program: JSON.stringify(view.program), key: view.trace_key, state: JSON.stringify(view.state) };
      listen();
      onChange(session);
      return { session, view };
    } catch {
      session = null; save();
      return null;
    }
  }

  /** Send the lecturer's current program, trace key and {step, view}; the newest call wins. */
  function publish(next) {
    if (!session) return;
    pending = next;
    pump();
  }

  async function pump() {
    if (inflight || !pending || !session) return;
    const wait = last + PUBLISH_GAP_MS - Date.now();
    if (wait > 0) { if (!timer) timer = timers.setTimeout(() => { timer = null; pump(); }, wait); return; }
    const { program, traceKey, state } = pending;
    pending = null;
    const body = { state };
    const p = JSON.stringify(program), s = JSON.stringify(state);
    if (p !== sent.program) body.program = program;
    if (traceKey && (traceKey !== sent.key || body.program)) body.trace_key = traceKey;
    if (!body.program && !body.trace_key && s === sent.state) return pump();
    inflight = true;
    last = Date.now();
    const code = session.code, token = session.token;
    try {
      await putState(base, code, token, body, fetchImpl);
      sent = { program: p, key: traceKey ?? sent.key, state: s };
    } catch (err) {
      if (err.status === 404 || err.status === 410) stop();
      onError(err);
    } finally {
      inflight = false;
      if (pending) pump();
    }
  }

  /** Ask the class {step, prompt, choices: [text], correct}; resolves to the question id. */
  async function ask(q) {
    const { id } = await openQuestion(base, session.code, session.token, q, fetchImpl);
    return id;
  }

  const reveal = (id) => revealAnswer(base, session.code, session.token, id, fetchImpl);
  /** A question's counts with its right answer (the presenter's view), e.g. after a reload. */
  const tally = (id) => getTally(base, session.code, id, session.token, fetchImpl);

  async function end() {
    if (!session) return;
    try { await endClass(base, session.code, session.token, fetchImpl); } finally { stop(); }
  }

  return { start, resume, publish, ask, reveal, tally, end, get session() { return session; } };
}
