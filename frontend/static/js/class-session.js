// Class sessions on the page: the lecturer's side (start, publish every step and view, ask, reveal, end) and a
// follower's (/c/<code>, /embed?class=<code>): the stage follows the lecturer until the student steps away.
import { createHost } from "./class/host.js";
import { createFollow } from "./class/follow.js";
import { followerId, getClass, sendAnswer } from "./class/api.js";

const FOLLOWER_POLL_MS = 4000;
import { getTrace, runTrace, traceKeyOf } from "./api.js";
import { chainCard } from "./teach/chain-card.js";
import { question } from "./teach/quiz.js";
import { createClassHostView } from "./view/class-host.js";
import { createClassFollowView } from "./view/class-follow.js";

/** The join code this page was opened for: the server's config.class.code (/c/<code>, /embed?class=<code>), else the URL. */
export function classCodeOf(loc, config = {}) {
  const raw = config.class?.code || /^\/c\/([^/?#]+)/.exec(loc.pathname)?.[1] || new URLSearchParams(loc.search).get("class");
  const code = String(raw || "").replace(/[\s-]/g, "").toUpperCase();
  return /^[A-Z0-9]{4,12}$/.test(code) ? code : null;
}

/**
 * The lecturer's side. `stage`: the page's stage; `program()` → {code, seed} of what is drawn (null: nothing yet).
 * Returns {rendered()} to call after every drawn step or view change.
 */
export function wireHost(doc, { config, stage, program }) {
  const win = doc.defaultView;
  const keys = new Map(); // program → its trace-cache key (followers GET the trace by it)
  const keyOf = (p) => {
    const id = `${p.seed}\n${p.code}`;
    if (!keys.has(id)) keys.set(id, traceKeyOf(config.traceKeys, p.code, p.seed).catch(() => null));
    return keys.get(id);
  };
  const snapshot = () => {
    const { step, collapsed, rankdir } = stage.viewState();
    // A big graph folds hundreds of boxes: send whichever list is shorter (the state is capped server-side).
    const groups = [...(stage.app.graph?.groups?.keys() ?? [])], shut = new Set(collapsed);
    const open = groups.filter((k) => !shut.has(k));
    return { step, view: open.length < collapsed.length ? { open, rankdir } : { collapsed, rankdir } };
  };
  let open = null; // the open question {id, prompt, choices, correct}
  const host = createHost({
    base: config.api, storage: win.sessionStorage,
    onChange: (s) => { view.session(s); if (s) rendered(); },
    onEvent: (type, data) => {
      if (type === "state" && Number.isInteger(data.followers)) view.followers(Math.max(0, data.followers - 1)); // not this tab's own stream
      if (type === "tally") view.tally(data);
      if (type === "reveal") view.revealed(data);
      if (type === "end") view.session(null);
    },
    onError: (err) => view.say(err.message, "error"),
  });
  const view = createClassHostView(doc, {
    async start() {
      const p = program();
      if (!p) throw new Error("Run a program first: the class follows what is on screen.");
      await host.start(p, await keyOf(p), snapshot());
    },
    end: () => host.end(),
    async ask() {
      const q = current();
      if (!q) throw new Error("Step to a backward node to ask what gradient it sends.");
      const choices = q.choices.map((c) => c.text), correct = q.choices.findIndex((c) => c.correct);
      const id = await host.ask({ step: stage.player.step, prompt: q.prompt, choices, correct });
      open = { id, prompt: q.prompt, choices, correct };
      view.question(open);
    },
    reveal: async (id) => view.revealed({ ...(await host.reveal(id)), correct: open?.correct }),
  });

  /** The quiz's question at the shown step (multiple choice; distractors are the usual slips), or null. */
  function current() {
    const tl = stage.app.tl;
    return tl ? question(chainCard(tl, stage.player.step, { source: stage.app.code })) : null;
  }

  async function rendered() {
    view.canAsk(!!host.session && !!current());
    const p = program();
    if (!host.session || !p) return;
    const state = snapshot(), traceKey = await keyOf(p);
    host.publish({ program: p, traceKey, state });
  }

  host.resume().then(async (r) => {
    if (!r) return;
    view.say(`Class ${r.session.code} is still live.`);
    const q = r.view.question; // a reload while a question was open: its histogram comes back
    if (!q) return;
    const t = await host.tally(q.id).catch(() => null);
    if (!t || !Number.isInteger(t.correct)) return;
    open = { id: q.id, prompt: q.prompt, choices: q.choices, correct: t.correct };
    view.question(open);
    if (q.revealed) view.revealed(t);
    else view.tally({ id: t.id, counts: t.counts }); // the right answer stays the lecturer's until revealed
  });
  // Joins and leaves push no event: the count is read every few seconds while a session runs.
  win.setInterval(() => {
    if (host.session && !doc.hidden) getClass(config.api, host.session.code).then((v) => view.followers(Math.max(0, v.followers - 1)), () => {});
  }, FOLLOWER_POLL_MS);
  return { rendered, host };
}

/**
 * A follower's side: join `code`, follow the lecturer on `stage`. `onProgram(program)` shows the lecturer's code
 * (the page's editor). Returns {shown(k), detach()}: call shown after every drawn step, detach when the student
 * runs a program of their own.
 */
export function wireFollow(doc, { config, code, stage, onProgram = () => {}, status = () => {} }) {
  const win = doc.defaultView;
  const me = followerId(win.localStorage);
  const loadTrace = async (view) => {
    const p = view.program;
    status("Loading the lecturer's program…");
    try {
      // One run serves the whole hall: the trace comes from the cache by key; a miss is a cacheable run.
      const byKey = view.trace_key && await getTrace(`${config.api}/traces/${encodeURIComponent(view.trace_key)}?probe=1`);
      return byKey || await runTrace(config.api, p.code, p.seed, undefined, { keys: config.traceKeys });
    } finally { status(""); }
  };
  const follow = createFollow({
    base: config.api, code, stage, loadTrace, onProgram,
    onStatus: (s) => ui.status(s),
    onQuestion: (q) => ui.question(q),
    onReveal: (t) => ui.revealed(t),
  });
  const ui = createClassFollowView(doc, code, {
    rejoin: () => follow.rejoin(),
    answer: (q, i) => sendAnswer(config.api, code, q.id, i, me),
  });
  follow.start();
  return { shown: (k) => follow.shown(k), detach: () => follow.detach(), follow };
}
