import { test } from "node:test";
import assert from "node:assert/strict";
import { Player } from "../static/js/model/player.js";

function fakeClock() {
  let now = 0, id = 0;
  const timers = new Map();
  return {
    setTimeout(fn, ms) { timers.set(++id, { fn, at: now + ms }); return id; },
    clearTimeout(t) { timers.delete(t); },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = [...timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (!next || next[1].at > end) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
    get pending() { return timers.size; },
  };
}

test("play advances one step per interval and stops at the end", () => {
  const clock = fakeClock();
  const seen = [];
  const p = new Player({ total: 3, interval: 100, clock, onStep: (k) => seen.push(k) });
  p.play();
  clock.advance(250);
  assert.deepEqual(seen, [1, 2]);
  clock.advance(1000);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(p.playing, false);
  assert.equal(clock.pending, 0);
});

test("pause cancels the pending tick; speed shortens the interval", () => {
  const clock = fakeClock();
  const p = new Player({ total: 10, interval: 100, clock });
  p.play();
  clock.advance(100);
  p.pause();
  clock.advance(1000);
  assert.equal(p.step, 1);
  p.setSpeed(4);
  p.play();
  clock.advance(100);
  assert.equal(p.step, 5);
});

test("step, back, seek and reset clamp to the timeline", () => {
  const p = new Player({ total: 2, clock: fakeClock() });
  p.back();
  assert.equal(p.step, 0);
  p.forward(); p.forward(); p.forward();
  assert.equal(p.step, 2);
  p.seek(-5);
  assert.equal(p.step, 0);
  p.seek(1);
  p.reset();
  assert.equal(p.step, 0);
  p.end();
  assert.equal(p.step, 2);
});

test("play at the end rewinds; load stops and jumps", () => {
  const clock = fakeClock();
  const p = new Player({ total: 2, interval: 10, clock });
  p.end();
  p.play();
  assert.equal(p.step, 0);
  assert.ok(p.playing);
  const seen = [];
  p.onStep = (k, why) => seen.push([k, why]);
  p.load(5, 5);
  assert.equal(p.playing, false);
  assert.deepEqual(seen, [[5, "load"]]);
  clock.advance(100);
  assert.equal(p.step, 5);
});

test("onChange reports playing state", () => {
  const states = [];
  const p = new Player({ total: 2, clock: fakeClock(), onChange: (pl) => states.push(pl.playing) });
  p.play(); p.pause();
  assert.deepEqual(states.slice(-2), [true, false]);
});

test("hold: while a question waits, forward and play stay on the step (and say so); back and seek still move", () => {
  const clock = fakeClock();
  let waiting = true, held = 0;
  const seen = [];
  const p = new Player({ total: 5, interval: 100, clock, onStep: (k) => seen.push(k), hold: () => waiting, onHold: () => held++ });
  p.seek(2);
  p.forward();
  assert.equal(p.step, 2, "→ does not skip the question");
  p.play();
  clock.advance(500);
  assert.equal(p.step, 2, "Play does not skip it either");
  assert.equal(p.playing, false);
  assert.equal(held, 2);
  p.back();
  assert.equal(p.step, 1);
  waiting = false;
  p.forward();
  assert.equal(p.step, 2);
});
