// A follower follows the lecturer's step and program, stops following when stepping alone, rejoins; the
// lecturer's side sends the newest state, in order, and never an unchanged one. Fakes for fetch/EventSource.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createFollow } from "../static/js/class/follow.js";
import { createHost } from "../static/js/class/host.js";
import { followerId } from "../static/js/class/api.js";

class FakeSource {
  static last = null;
  constructor(url) { this.url = url; this.handlers = {}; this.closed = false; FakeSource.last = this; }
  addEventListener(type, f) { (this.handlers[type] ||= []).push(f); }
  emit(type, data) { for (const f of this.handlers[type] || []) f({ data: JSON.stringify(data) }); }
  close() { this.closed = true; }
}

function fakeStage() {
  const stage = {
    loads: [], views: [], shown: null,
    app: { tl: null, code: "" },
    player: { step: 0, total: 0, pause() {}, seek(k) { const n = Math.max(0, Math.min(this.total, k)); if (n !== this.step) { this.step = n; stage.shown?.(n); } } },
    async load(trace, code, restore) {
      stage.loads.push({ trace, code, restore });
      stage.app = { tl: { fake: trace }, code };
      stage.player.total = trace.steps;
      stage.player.step = restore.step ?? 0;
      stage.shown?.(stage.player.step);
    },
    applyView(v) { stage.views.push(v); },
  };
  return stage;
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const view = (seq, step, code = "a = 1", extra = {}) => ({ code: "K7QX2M", seq, program: { code, seed: 0 }, trace_key: `key-${code}`, state: { step, view: { collapsed: [] } }, question: null, followers: 3, ended: false, ...extra });

function follower(first) {
  const stage = fakeStage(), statuses = [], traces = [];
  const fetchImpl = async () => ({ ok: true, status: 200, json: async () => first });
  const f = createFollow({
    base: "/api/v1", code: "K7QX2M", stage, fetchImpl, EventSourceImpl: FakeSource,
    loadTrace: async (v) => { traces.push(v.trace_key); return { steps: 20, code: v.program.code }; },
    onStatus: (s) => statuses.push(s),
  });
  stage.shown = (k) => f.shown(k);
  return { f, stage, statuses, traces };
}

test("a follower opens the lecturer's program at the lecturer's step, then follows each step", async () => {
  const { f, stage, traces } = follower(view(1, 5));
  await f.start(); await flush();
  assert.deepEqual(traces, ["key-a = 1"]);
  assert.equal(stage.loads[0].restore.step, 5);
  assert.equal(stage.player.step, 5);
  assert.ok(f.following);
  FakeSource.last.emit("state", view(2, 6));
  FakeSource.last.emit("state", view(3, 9));
  assert.equal(stage.player.step, 9);
  FakeSource.last.emit("state", view(2, 6)); // an old event after a reconnect: ignored
  assert.equal(stage.player.step, 9);
  assert.equal(traces.length, 1, "same program: no new trace");
});

test("stepping alone leaves the live view; the lecturer moves on; Rejoin live catches up", async () => {
  const { f, stage, statuses } = follower(view(1, 5));
  await f.start(); await flush();
  stage.player.seek(3); // the student steps back
  assert.equal(f.following, false);
  FakeSource.last.emit("state", view(2, 8));
  assert.equal(stage.player.step, 3, "not dragged along while away");
  const s = statuses.at(-1);
  assert.equal(s.live - s.shown, 5);
  f.rejoin();
  assert.equal(stage.player.step, 8);
  assert.ok(f.following);
});

test("a re-run of an edited program reaches followers: following → the live step; away → their own step carried", async () => {
  const { f, stage, traces } = follower(view(1, 4));
  await f.start(); await flush();
  FakeSource.last.emit("state", view(2, 7, "a = 2"));
  await flush(); await flush();
  assert.deepEqual(traces, ["key-a = 1", "key-a = 2"]);
  assert.equal(stage.loads[1].code, "a = 2");
  assert.equal(stage.player.step, 7);
  stage.player.seek(2);
  FakeSource.last.emit("state", view(3, 7, "a = 3"));
  await flush(); await flush();
  assert.equal(stage.loads[2].restore.carry.step, 2, "away: the student's own step is carried");
  assert.equal(f.following, false);
});

test("a question, its reveal and the end reach the follower", async () => {
  const stage = fakeStage(), got = [];
  const f = createFollow({
    base: "/api/v1", code: "K7QX2M", stage, EventSourceImpl: FakeSource,
    fetchImpl: async () => ({ ok: true, status: 200, json: async () => view(1, 2) }),
    loadTrace: async () => ({ steps: 10 }), onQuestion: (q) => got.push(q), onReveal: (t) => got.push(t), onStatus: (s) => got.push(s),
  });
  await f.start(); await flush();
  FakeSource.last.emit("question", { id: "0a1b2c3d", step: 2, prompt: "p", choices: ["1", "2"], revealed: false });
  FakeSource.last.emit("reveal", { id: "0a1b2c3d", counts: [3, 1], total: 4, correct: 0 });
  assert.equal(f.question.correct, 0);
  FakeSource.last.emit("end", { code: "K7QX2M" });
  assert.ok(f.ended);
  assert.ok(FakeSource.last.closed);
  assert.equal(got.at(-1).ended, true);
});

test("the lecturer's side sends the newest state in order, skips unchanged ones, and sends the program once", async () => {
  const sent = [];
  const fetchImpl = async (url, init = {}) => {
    if (init.method === "POST") return { ok: true, status: 201, json: async () => ({ code: "K7QX2M", presenter_token: "tok", join_url: "/c/K7QX2M", events_url: "/e", expires_in: 60 }) };
    sent.push({ url, body: JSON.parse(init.body), auth: init.headers.Authorization });
    await flush();
    return { ok: true, status: 200, json: async () => ({ seq: sent.length + 1 }) };
  };
  const timers = { setTimeout: (f) => setTimeout(f, 0), clearTimeout };
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) };
  const host = createHost({ base: "/api/v1", storage, fetchImpl, EventSourceImpl: FakeSource, timers });
  const program = { code: "a = 1", seed: 0 };
  await host.start(program, "k1", { step: 0, view: {} });
  assert.equal(JSON.parse(store.get("gradtrace.class.host")).token, "tok", "the token stays in this tab's sessionStorage");
  for (let k = 1; k <= 5; k++) host.publish({ program, traceKey: "k1", state: { step: k, view: {} } });
  await new Promise((r) => setTimeout(r, 300)); // past the gap between two sends
  assert.ok(sent.length >= 1 && sent.length <= 2, `coalesced: ${sent.length} requests`);
  assert.equal(sent.at(-1).body.state.step, 5);
  assert.ok(sent.every((s) => s.auth === "Bearer tok" && !s.body.program), "program unchanged: not sent");
  const n = sent.length;
  host.publish({ program, traceKey: "k1", state: { step: 5, view: {} } });
  for (let i = 0; i < 10; i++) await flush();
  assert.equal(sent.length, n, "an unchanged state is not sent");
  host.publish({ program: { code: "a = 2", seed: 0 }, traceKey: "k2", state: { step: 3, view: {} } });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(sent.at(-1).body, { state: { step: 3, view: {} }, program: { code: "a = 2", seed: 0 }, trace_key: "k2" });
});

test("a follower id is random hex, kept per browser", () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  const a = followerId(storage), b = followerId(storage);
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.equal(a, b);
  assert.notEqual(followerId(null), followerId(null));
});

test("a stream the browser gave up on (HTTP error mid-failover) is reopened after reading the state again", async () => {
  const stage = fakeStage(), timers = [];
  let gets = 0;
  const replies = [view(1, 2), { status: 502 }, view(4, 7)];
  const f = createFollow({
    base: "/api/v1", code: "K7QX2M", stage, EventSourceImpl: FakeSource, loadTrace: async () => ({ steps: 10 }),
    timers: { setTimeout: (fn) => timers.push(fn) },
    fetchImpl: async () => {
      const r = replies[gets++];
      return r.status ? { ok: false, status: r.status, headers: { get: () => null }, json: async () => ({}) } : { ok: true, status: 200, json: async () => r };
    },
  });
  await f.start(); await flush();
  const first = FakeSource.last;
  first.readyState = 2;
  first.emit("error", {});
  assert.equal(timers.length, 1);
  await timers.shift()(); // the server still answers 502: wait again, no new stream yet
  assert.equal(FakeSource.last, first);
  assert.equal(timers.length, 1);
  await timers.shift()();
  assert.notEqual(FakeSource.last, first, "a new stream");
  assert.equal(stage.player.step, 7, "caught up from the state read before reopening");
});
