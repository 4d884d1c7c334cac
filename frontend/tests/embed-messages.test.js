// /embed's postMessage API: steps asked before the first draw wait for it; the clicker's keys go to the host
// unless kept; Escape is offered to the host; a frame that is not framed keeps every key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bindEmbedMessages } from "../static/js/embed-messages.js";
import { Player } from "../static/js/model/player.js";

function frame({ framed = true } = {}) {
  const posted = [], listeners = [];
  const win = {
    addEventListener: (t, f) => listeners.push(f),
    document: { activeElement: { blur() { win.blurred = true; } } },
  };
  win.parent = framed ? { postMessage: (m, origin) => posted.push({ m, origin }) } : win;
  const player = new Player({ total: 0 });
  const stage = { player };
  const receive = (data) => listeners.forEach((f) => f({ data }));
  return { win, stage, posted, receive, player };
}

test("a step asked for before the first draw is applied once ready; then every step is reported", () => {
  const f = frame();
  const m = bindEmbedMessages(f.win, f.stage);
  f.receive({ gradtrace: "step", step: 4 });
  f.receive({ gradtrace: "step", step: 6 }); // the newest request wins
  assert.equal(f.player.step, 0);
  f.player.load(10, 0);
  m.ready();
  assert.equal(f.player.step, 6);
  const ready = f.posted.find((p) => p.m.gradtrace === "ready").m;
  assert.deepEqual({ step: ready.step, steps: ready.steps, protocol: ready.protocol }, { step: 6, steps: 10, protocol: 1 });
  f.receive({ gradtrace: "next" });
  f.receive({ gradtrace: "next" });
  f.receive({ gradtrace: "prev" });
  assert.equal(f.player.step, 7);
  f.receive({ gradtrace: "step", step: 99 });
  assert.equal(f.player.step, 10, "clamped");
  f.receive({ gradtrace: "state" });
  assert.equal(f.posted.at(-1).m.gradtrace, "state");
  assert.equal(f.posted.at(-1).m.step, 10);
  f.receive("not ours"); f.receive({ type: "step", step: 1 }); f.receive(null);
  assert.equal(f.player.step, 10, "foreign messages are ignored");
});

test("the clicker's keys go to the host unless kept; Escape hands the focus back", () => {
  const f = frame();
  const m = bindEmbedMessages(f.win, f.stage);
  assert.equal(m.passKey("ArrowRight"), true);
  assert.deepEqual(f.posted.at(-1).m, { gradtrace: "key", protocol: 1, key: "ArrowRight" });
  assert.equal(m.passKey("Escape"), true);
  assert.equal(f.posted.at(-1).m.gradtrace, "escape");
  assert.ok(f.win.blurred);
  f.receive({ gradtrace: "keys", on: true });
  assert.equal(m.passKey("PageDown"), false, "the host asked the embed to keep them");
  const kept = bindEmbedMessages(frame().win, f.stage, { keys: true });
  assert.equal(kept.passKey("ArrowLeft"), false, "?keys=1");
  const alone = frame({ framed: false });
  assert.equal(bindEmbedMessages(alone.win, alone.stage).passKey("ArrowRight"), false, "not in a frame: keys stay");
});
