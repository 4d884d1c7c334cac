// The page waits out a busy server: Retry-After with jitter, a countdown, a bound, and cancellation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { countdown, fetchPatiently, retryDelayMs } from "../static/js/api.js";
import { canonicalJson, traceKey } from "../static/js/wire/trace-key.js";

const reply = (status, retryAfter) => ({ status, ok: status < 300, headers: { get: (h) => (h === "Retry-After" ? retryAfter ?? null : null) } });
// Timers that fire at once but keep the requested delays: the test checks what was asked, not wall time.
function fakeTimers() {
  const asked = [];
  let now = Date.now();
  const realNow = Date.now;
  Date.now = () => now;
  return {
    asked,
    setTimeout(f, ms) { asked.push(ms); now += ms; queueMicrotask(f); return asked.length; },
    clearTimeout() {},
    restore() { Date.now = realNow; },
  };
}

test("Retry-After plus at most 2 s of jitter; without it 1, 2, 4… s", () => {
  assert.equal(retryDelayMs("3", 0, () => 0), 3000);
  assert.equal(retryDelayMs("3", 0, () => 0.999), 4998);
  assert.equal(retryDelayMs(null, 0, () => 0), 1000);
  assert.equal(retryDelayMs(null, 2, () => 0), 4000);
  assert.equal(retryDelayMs(null, 9, () => 0), 8000);
  assert.equal(retryDelayMs("999", 0, () => 0), 60000); // a silly header cannot park the page for ever
});

test("retries 429 and 503 until an answer, counting the seconds down", async () => {
  const timers = fakeTimers();
  const answers = [reply(503, "2"), reply(429, "1"), reply(200)];
  const shown = [];
  try {
    const r = await fetchPatiently(async () => answers.shift(), { onWait: (s) => shown.push(s), random: () => 0, timers });
    assert.equal(r.status, 200);
    assert.deepEqual(shown, [2, 1, 1]);
  } finally { timers.restore(); }
});

test("stops waiting after the bound and hands back the busy answer", async () => {
  const timers = fakeTimers();
  let calls = 0;
  try {
    const r = await fetchPatiently(async () => { calls += 1; return reply(503, "5"); }, { maxWaitMs: 12000, random: () => 0, timers });
    assert.equal(r.status, 503);
    assert.equal(calls, 4); // waits 5 + 5 + 2 s (the rest of the bound), then gives up
  } finally { timers.restore(); }
});

test("other answers are not retried", async () => {
  for (const status of [200, 404, 413, 422, 500]) {
    let calls = 0;
    const r = await fetchPatiently(async () => { calls += 1; return reply(status); });
    assert.equal(r.status, status);
    assert.equal(calls, 1);
  }
});

test("cancelling the wait rejects with AbortError and stops the retries", async () => {
  const ctrl = new AbortController();
  let calls = 0;
  const waiting = fetchPatiently(async () => { calls += 1; return reply(503, "30"); }, { signal: ctrl.signal });
  await new Promise((r) => setTimeout(r, 20));
  ctrl.abort();
  await assert.rejects(waiting, { name: "AbortError" });
  assert.equal(calls, 1);
  await assert.rejects(countdown(1000, ctrl.signal), { name: "AbortError" });
});

test("the trace key is sorted-key JSON under the namespace, SHA-256, 32 hex digits", async () => {
  assert.equal(canonicalJson({ seed: 0, code: "x", opt: { b: [1, null], a: true } }), '{"code":"x","opt":{"a":true,"b":[1,null]},"seed":0}');
  const key = await traceKey({ namespace: "ns", defaults: { seed: 0 } }, { code: "x = 1" });
  assert.match(key, /^[0-9a-f]{32}$/);
  assert.equal(await traceKey({ namespace: "ns" }, { code: "x = 1", seed: 0 }), key); // defaults fill the same fields
  assert.equal(await traceKey({ namespace: "ns" }, { code: "x" }, null), null); // no Web Crypto: no key, the page POSTs
});
