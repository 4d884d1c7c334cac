// The REST API v1 calls the page makes.

export class ApiError extends Error {}

export async function fetchExamples(base) {
  const r = await fetch(`${base}/examples`, { headers: { Accept: "application/json" } });
  if (!r.ok) throw new ApiError(`Could not load the gallery (HTTP ${r.status}).`);
  return r.json();
}

/** POST the program; resolves to a Trace (a failing program is still a Trace with status "error"). */
export async function runTrace(base, code, seed, signal) {
  const r = await fetch(`${base}/traces`, {
    method: "POST", signal,
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ code, seed }),
  });
  if (r.ok) return r.json();
  if (r.status === 413) throw new ApiError("The program is too long for this server.");
  if (r.status === 429 || r.status === 503) {
    const after = r.headers.get("Retry-After");
    throw new ApiError(`The server is busy; try again${after ? ` in ${after} s` : " shortly"}.`);
  }
  throw new ApiError(`The server refused the request (HTTP ${r.status}).`);
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
