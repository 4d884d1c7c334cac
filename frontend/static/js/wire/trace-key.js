// The server's trace-cache key of a request, computed here so the page can GET a finished trace (cacheable by
// the browser and any HTTP cache) before it POSTs. Mirrors backend/gradtrace/cache/keys.py:trace_key.

/** JSON with keys sorted at every level, as Python's json.dumps(sort_keys=True, separators=(",", ":")). */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Hex key of `request` ({code, seed, …options}) or null where Web Crypto is unavailable (plain-http origins). */
export async function traceKey(keys, request, subtle = globalThis.crypto?.subtle) {
  if (!subtle || !keys?.namespace) return null;
  const full = { ...(keys.defaults || {}), ...request };
  const bytes = new TextEncoder().encode(`${keys.namespace}\n${canonicalJson(full)}`);
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}
