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
