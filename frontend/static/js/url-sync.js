// The address bar follows the page: state → "#v1.…" with history.replaceState (throttled, so stepping
// never floods the history API), and a link pasted into the same tab (hashchange) is applied.
import { decodeState, encodeState, isStateFragment } from "./wire/url-state.js";

const THROTTLE_MS = 250;

/** The state a URL asks for: its fragment, else `?s=<id>` (a short link, resolved by `fetchSnippet`). */
export async function readLocation(loc, fetchSnippet) {
  const state = await decodeState(loc.hash);
  const damaged = isStateFragment(loc.hash) && state.code === null;
  const sid = new URLSearchParams(loc.search).get("s");
  if (state.code === null && sid) {
    const snip = await fetchSnippet(sid); // null: unknown id
    if (snip) return { state: { ...state, code: snip.code, seed: snip.seed }, snippet: sid, damaged };
    return { state, snippet: sid, damaged: true };
  }
  return { state, snippet: null, damaged };
}

/**
 * `getState()` → current state or null (nothing to share yet); `schedule()` after any change.
 * `onExternal(state)` runs when the fragment changes under us (a pasted link, the back button).
 */
export function createUrlSync(win, getState, { onExternal = () => {}, write = true } = {}) {
  let timer = null, pending = false, written = win.location.hash;
  const listeners = [];
  async function flush() {
    timer = null;
    pending = false;
    const state = getState();
    if (!state) return;
    const frag = `#${await encodeState(state)}`;
    listeners.forEach((f) => f(frag));
    if (!write || frag === written) return;
    written = frag;
    // The fragment replaces any ?s=<id>: the long link is exact and needs no server lookup.
    win.history.replaceState(win.history.state, "", `${win.location.pathname}${frag}`);
  }
  win.addEventListener("hashchange", async () => {
    if (win.location.hash === written) return;
    written = win.location.hash;
    const state = await decodeState(win.location.hash);
    if (state.code !== null) onExternal(state);
  });
  return {
    schedule() {
      pending = true;
      if (!timer) timer = win.setTimeout(flush, THROTTLE_MS);
    },
    /** Encode now (e.g. before copying a link); resolves to "#v1.…" or "" when there is nothing yet. */
    async now() {
      if (timer) { win.clearTimeout(timer); timer = null; }
      const state = getState();
      if (!state) return "";
      if (pending) await flush();
      return `#${await encodeState(state)}`;
    },
    /** Called with every fragment written (the embed page keeps its "open in gradtrace" link current). */
    onWrite(f) { listeners.push(f); },
  };
}
