// /embed's postMessage API, for slides and course pages (docs/embed-api.md). The page around the frame sends
// {gradtrace: "step", step} | {gradtrace: "next"} | {gradtrace: "prev"} | {gradtrace: "state"} | {gradtrace: "keys", on};
// the frame sends {gradtrace: "ready", …} once drawn, {gradtrace: "state", …} after every step and when asked,
// and passes the clicker's keys on ({gradtrace: "key", key}) and Escape ({gradtrace: "escape"}) unless it keeps them.

export const PROTOCOL = 1;

/**
 * `win`: the embed's window; `stage`: its stage; `keys`: true when the embed keeps ←/→/PageUp/PageDown itself
 * (the embedder opted in with ?keys=1 or {gradtrace: "keys", on: true}). Returns {rendered(k), ready(), passKey(key)}.
 */
export function bindEmbedMessages(win, stage, { keys = false, extra = () => ({}) } = {}) {
  const parent = win.parent !== win ? win.parent : null;
  let pending = null, isReady = false, keep = keys;
  const send = ({ type, ...rest }) => parent?.postMessage({ gradtrace: type, protocol: PROTOCOL, ...rest }, "*");
  const snapshot = () => ({ step: stage.player.step, steps: stage.player.total, playing: stage.player.playing, ...extra() });

  function go(fn) {
    if (!isReady) { pending = fn; return; } // before the first draw: the newest request waits
    stage.player.pause();
    fn();
  }

  win.addEventListener("message", (ev) => {
    const m = ev.data;
    if (!m || typeof m !== "object" || typeof m.gradtrace !== "string") return;
    if (m.gradtrace === "step" && Number.isSafeInteger(m.step)) go(() => stage.player.seek(m.step, "message"));
    else if (m.gradtrace === "next") go(() => stage.player.forward());
    else if (m.gradtrace === "prev") go(() => stage.player.back());
    else if (m.gradtrace === "keys") keep = !!m.on;
    else if (m.gradtrace === "state") send({ type: "state", ...snapshot() });
  });

  return {
    /** After every drawn step: the host hears where the embed is. */
    rendered() { if (isReady) send({ type: "state", ...snapshot() }); },
    /** Once the first trace is drawn (or failed): tell the host, then apply what it asked for meanwhile. */
    ready() {
      isReady = true;
      if (pending) { const fn = pending; pending = null; go(fn); }
      send({ type: "ready", ...snapshot() });
    },
    /** The clicker's keys go to the deck (unless kept); Escape leaves the frame for the deck. */
    passKey(key) {
      if (key === "Escape") {
        if (!parent) return false;
        win.document.activeElement?.blur?.();
        send({ type: "escape" });
        return true;
      }
      if (keep || !parent) return false;
      send({ type: "key", key });
      return true;
    },
  };
}
