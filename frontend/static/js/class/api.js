// The class session's REST calls (docs/class-api.md): create, read, drive (presenter token), questions, answers, end.
// Errors are ClassError with a message fit for the page; `status` keeps the HTTP code (403: not the presenter).

export class ClassError extends Error {
  constructor(message, status = 0) { super(message); this.status = status; }
}

const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };
const auth = (token) => ({ ...JSON_HEADERS, Authorization: `Bearer ${token}` });
const url = (base, code, rest = "") => `${base}/classes/${encodeURIComponent(code)}${rest}`;

async function fail(r, what) {
  const detail = await r.json().then((j) => (typeof j.detail === "string" ? j.detail : ""), () => "");
  if (r.status === 403) return new ClassError("Only the lecturer's browser can drive this class session.", 403);
  if (r.status === 404) return new ClassError("No such class session (it ended, or the code is mistyped).", 404);
  if (r.status === 410) return new ClassError("This class session has ended.", 410);
  if (r.status === 429) return new ClassError(`Too many requests; try again in ${r.headers.get("Retry-After") || "a few"} s.`, 429);
  return new ClassError(`Could not ${what}${detail ? `: ${detail}` : ` (HTTP ${r.status})`}.`, r.status);
}

async function call(doFetch, what) {
  const r = await doFetch();
  if (!r.ok) throw await fail(r, what);
  return r.status === 204 ? null : r.json();
}

/** Start a session: resolves to {code, join_url, presenter_token, expires_in, events_url}. */
export const createClass = (base, program, state, traceKey = null, f = fetch) => call(() => f(`${base}/classes`, {
  method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ program, state, ...(traceKey ? { trace_key: traceKey } : {}) }),
}), "start a class session");

/** The session as it stands: {code, seq, program, trace_key, state: {step, view}, question, followers, ended}. */
export const getClass = (base, code, f = fetch) => call(() => f(url(base, code), { headers: { Accept: "application/json" } }), "open the class session");

/** Drive: the step and view (and the program and its trace key when they changed). Resolves to {seq}. */
export const putState = (base, code, token, body, f = fetch) => call(() => f(url(base, code, "/state"), {
  method: "PUT", headers: auth(token), body: JSON.stringify(body),
}), "update the class");

/** Ask the class a multiple-choice question: {step, prompt, choices: [text], correct: index} → {id}. */
export const openQuestion = (base, code, token, q, f = fetch) => call(() => f(url(base, code, "/questions"), {
  method: "POST", headers: auth(token), body: JSON.stringify(q),
}), "ask the class");

/** A follower's answer: true when counted, false when this follower had already answered (409). */
export async function sendAnswer(base, code, id, choice, follower, f = fetch) {
  const r = await f(url(base, code, `/questions/${encodeURIComponent(id)}/answers`), {
    method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ choice, follower }),
  });
  if (r.status === 409) return false;
  if (!r.ok) throw await fail(r, "send the answer");
  return true;
}

/** The answers' counts; with the presenter's token (or once revealed) also `correct`. */
export const getTally = (base, code, id, token = null, f = fetch) => call(() => f(url(base, code, `/questions/${encodeURIComponent(id)}/tally`), {
  headers: token ? { Accept: "application/json", Authorization: `Bearer ${token}` } : { Accept: "application/json" },
}), "count the answers");

export const revealAnswer = (base, code, token, id, f = fetch) => call(() => f(url(base, code, `/questions/${encodeURIComponent(id)}/reveal`), {
  method: "POST", headers: auth(token),
}), "reveal the answer");

export const endClass = (base, code, token, f = fetch) => call(() => f(url(base, code), { method: "DELETE", headers: auth(token) }), "end the class session");

/** A follower's anonymous id for this browser (one answer per question): random, kept in localStorage. */
export function followerId(storage, random = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n))) {
  const KEY = "gradtrace.follower";
  let id = null;
  try { id = storage?.getItem(KEY); } catch { /* storage blocked */ }
  if (!id || !/^[0-9a-f]{32}$/.test(id)) {
    id = Array.from(random(16), (b) => b.toString(16).padStart(2, "0")).join("");
    try { storage?.setItem(KEY, id); } catch { /* private mode: an id for this page only */ }
  }
  return id;
}
