// A cancellable step player (play/pause/step/seek/speed), modelled on tensorflow/playground's Player.
// The clock is injected so node tests can drive it without real timers.

export class Player {
  /**
   * @param {object} o
   * @param {number} o.total   number of steps; positions run 0..total
   * @param {(step:number, why:string)=>void} [o.onStep]   called after every move
   * @param {(p:Player)=>void} [o.onChange]   called when playing/speed/total change too
   * @param {number} [o.interval]   ms per step at speed 1
   * @param {{setTimeout:Function, clearTimeout:Function}} [o.clock]
   */
  constructor({ total = 0, onStep = () => {}, onChange = () => {}, interval = 1200, clock = globalThis, hold = () => false, onHold = () => {} } = {}) {
    this.hold = hold; // true while the current step must not be left forward (a quiz question waits for its answer)
    this.onHold = onHold;
    this.total = total;
    this.step = 0;
    this.playing = false;
    this.speed = 1;
    this.interval = interval;
    this.onStep = onStep;
    this.onChange = onChange;
    this.clock = clock;
    this.timer = null;
  }

  /** New trace: new length, back to step `at`, stopped. */
  load(total, at = 0) {
    this.cancel();
    this.playing = false;
    this.total = total;
    this.seek(at, "load");
  }

  play() {
    if (this.playing) return;
    if (this.step >= this.total) this.seek(0, "rewind");
    if (this.total === 0) return;
    this.playing = true;
    this.onChange(this);
    this.schedule();
  }

  pause() {
    this.cancel();
    if (!this.playing) return;
    this.playing = false;
    this.onChange(this);
  }

  toggle() {
    this.playing ? this.pause() : this.play();
  }

  forward() {
    if (this.hold()) { this.pause(); this.onHold(); return; }
    this.seek(this.step + 1, "forward");
  }

  back() {
    this.pause();
    this.seek(this.step - 1, "back");
  }

  reset() {
    this.pause();
    this.seek(0, "reset");
  }

  end() {
    this.pause();
    this.seek(this.total, "end");
  }

  /** Jump to a step (clamped); playing continues from there. */
  seek(k, why = "seek") {
    const next = Math.max(0, Math.min(this.total, Math.round(k)));
    const moved = next !== this.step;
    this.step = next;
    if (moved || why === "load") this.onStep(this.step, why);
    this.onChange(this);
    if (this.playing) { this.cancel(); this.schedule(); }
  }

  setSpeed(s) {
    this.speed = s > 0 ? s : 1;
    this.onChange(this);
    if (this.playing) { this.cancel(); this.schedule(); }
  }

  /** How long a step's animation may take, so transitions finish before the next tick. */
  get stepDuration() {
    return this.interval / this.speed;
  }

  schedule() {
    this.timer = this.clock.setTimeout(() => this.tick(), this.stepDuration);
  }

  tick() {
    this.timer = null;
    if (!this.playing) return;
    if (this.step >= this.total) { this.pause(); return; }
    if (this.hold()) { this.pause(); this.onHold(); return; }
    this.step += 1;
    this.onStep(this.step, "play");
    if (this.step >= this.total) { this.playing = false; this.onChange(this); return; }
    this.onChange(this);
    this.schedule();
  }

  cancel() {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  destroy() {
    this.cancel();
    this.playing = false;
  }
}
