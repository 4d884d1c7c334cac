// The REST API v1 calls the page makes. Busy answers (429/503) are waited out, never shown as failures.
import { traceKey } from "./wire/trace-key.js";

export class ApiError extends Error {}

export async function fetchExamples(base) {
  const r = await fetch(`${base}/examples`, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new ApiError(`Could not load the gallery (HTTP ${r.status}).`);
  return r.json();
}

const BUSY = new Set([429, 503]);
export const MAX_WAIT_MS = 120_000; // past two minutes of "busy" the page says so and stops

/** How long to wait before retry `attempt`: Retry-After (else 1, 2, 4… s, at most 8) plus up to 2 s of jitter. */
export function retryDelayMs(retryAfter, attempt, random = Math.random) {
  const told = Number.parseFloat(retryAfter);
  const base = Number.isFinite(told) && told >= 0 ? Math.min(told, 60) : Math.min(2 ** attempt, 8);
  // jitter spreads a class's retries, so they do not all come back in the same instant
  return Math.round((Math.max(base, 0.5) + random() * Math.min(Math.max(base, 1), 2)) * 1000);
}

function abortError() {
  return new DOMException("The wait was cancelled.", "AbortError");
}

/** Wait `ms`, calling `onWait(secondsLeft)` every second; rejects with AbortError when `signal` aborts. */
export function countdown(ms, signal, onWait = () => {}, timers = globalThis) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const end = Date.now() + ms;
    let timer = null;
    const stop = () => { timers.clearTimeout(timer); reject(abortError()); };
    const tick = () => {
      const left = end - Date.now();
      if (left <= 0) { signal?.removeEventListener("abort", stop); return resolve(); }
      onWait(Math.ceil(left / 1000));
      timer = timers.setTimeout(tick, ((left - 1) % 1000) + 1); // wake when the shown second changes
    };
    signal?.addEventListener("abort", stop, { once: true });
    tick();
  });
}

/**
 * `doFetch()` again after each 429/503, waiting Retry-After plus jitter and telling `onWait(seconds)`, for at
 * most `maxWaitMs` in all; resolves to the last response (busy or not). `signal` cancels the wait.
 */
export async function fetchPatiently(doFetch, { signal, onWait, maxWaitMs = MAX_WAIT_MS, random, timers } = {}) {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const r = await doFetch();
    if (!BUSY.has(r.status) || waited >= maxWaitMs) return r;
    const ms = Math.min(retryDelayMs(r.headers.get("Retry-After"), attempt, random), maxWaitMs - waited);
    await countdown(ms, signal, onWait, timers);
    waited += ms;
  }
}

function busyError() {
  return new ApiError("The server is still busy after waiting two minutes; try again later.");
}

/** GET a finished trace (a cacheable URL): the Trace, or null when the server does not have it (404, or 204 to a probe). */
export async function getTrace(url, { signal, onWait } = {}) {
  const r = await fetchPatiently(() => fetch(url, { signal, headers: { Accept: "application/json" } }), { signal, onWait });
  if (r.status === 204 || r.status === 404) return null;
  if (r.ok) return r.json();
  if (BUSY.has(r.status)) throw busyError();
  throw new ApiError(`The server refused the request (HTTP ${r.status}).`);
}

// What the page asks for: a compact Trace (stage.load expands it).
const traceRequest = (code, seed) => ({ code, seed, format: "compact", compact_version: 2 });

/** The trace-cache key of the page's run of (code, seed), or null where it cannot be computed (a class shares it). */
export const traceKeyOf = (keys, code, seed) => traceKey(keys, traceRequest(code, seed));

/**
 * The program's Trace (a failing program is still a Trace with status "error"): a GET of the finished trace
 * when `keys` (the page config's traceKeys) gives its key and the server has it, else a POST. Both wait
 * patiently while the server is busy (`onWait(seconds)` shows the countdown).
 */
export async function runTrace(base, code, seed, signal, { keys, onWait } = {}) {
  const request = traceRequest(code, seed);
  const key = await traceKey(keys, request).catch(() => null);
  if (key) {
    const cached = await getTrace(`${base}/traces/${key}?probe=1`, { signal, onWait });
    if (cached) return cached;
  }
  const r = await fetchPatiently(() => fetch(`${base}/traces`, {
    method: "POST", signal,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(request),
  }), { signal, onWait });
  if (r.ok) return r.json();
  if (r.status === 413) throw new ApiError("The program is too long for this server.");
  if (BUSY.has(r.status)) throw busyError();
  throw new ApiError(`The server refused the request (HTTP ${r.status}).`);
}

/** The trace of a short link's program: one cacheable GET (the server runs it once for the whole class). */
export async function snippetTrace(base, id, { signal, onWait } = {}) {
  return getTrace(`${base}/snippets/${encodeURIComponent(id)}/trace?format=compact&compact_version=2`, { signal, onWait }); // stage.load expands it
}

/** A stored program (short link) or null when the id is unknown. */
export async function fetchSnippet(base, id) {
  const r = await fetch(`${base}/snippets/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" } });
  if (r.status === 404) return null;
  if (!r.ok) throw new ApiError(`Could not open the short link (HTTP ${r.status}).`);
  return r.json();
}

/** Store a program; resolves to {id, url} (url is a path on this server). */
export async function createSnippet(base, code, seed) {
  const r = await fetch(`${base}/snippets`, {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ code, seed }),
  });
  if (r.status === 413) throw new ApiError("The program is too long to store.");
  if (r.status === 429) throw new ApiError(`Too many short links from here lately; try again in ${r.headers.get("Retry-After") || "a few"} s.`);
  if (!r.ok) throw new ApiError(`Could not make a short link (HTTP ${r.status}).`);
  return r.json();
}

/** The standalone HTML file of a program, as a Blob (the server traces it again: traces are deterministic). */
export async function exportHtml(base, { code, seed, step, theme, title }) {
  const r = await fetch(`${base}/export/html`, {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "text/html" },
    body: JSON.stringify({ code, seed, step, theme, title: title || null }),
  });
  if ((r.status === 429 || r.status === 503) && r.headers.get("Retry-After")) throw new ApiError("The server is busy; try the download again shortly.");
  if (!r.ok) {
    const detail = await r.json().then((j) => (typeof j.detail === "string" ? j.detail : ""), () => "");
    throw new ApiError(`The server could not export the file${detail ? `: ${detail}` : ` (HTTP ${r.status})`}.`);
  }
  const name = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "")?.[1] || "gradtrace.html";
  return { blob: await r.blob(), name };
}

/** Trace.finite_difference for leaf `tensor` (a variable name): the server re-runs the program with it nudged. */
export async function checkNumerically(base, code, seed, tensor, h = 1e-3) {
  const r = await fetch(`${base}/traces`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ code, seed, finite_difference: { tensor, h } }),
  });
  if (!r.ok) throw new ApiError(r.status === 429 || r.status === 503 ? "The server is busy; try again shortly." : `The server refused the check (HTTP ${r.status}).`);
  const trace = await r.json();
  return trace.finite_difference ?? { error: "this server does not do finite-difference checks" };
}
