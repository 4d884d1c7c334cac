// Bytes ⇄ URL-safe text: UTF-8, raw DEFLATE (the platform's CompressionStream, no library) and base64url.
// DOM-free: Chromium, Firefox, Safari 16.4+ and node 18+ all have CompressionStream and btoa/atob.

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true }); // invalid UTF-8 is garbage, not U+FFFD

export const canCompress = () => typeof CompressionStream === "function" && typeof DecompressionStream === "function";

export function utf8(text) { return enc.encode(text); }
export function fromUtf8(bytes) { return dec.decode(bytes); }

/** base64url without padding (RFC 4648 §5): safe in a URL fragment, no escaping needed. */
export function toBase64url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Inverse of toBase64url; throws on characters outside the alphabet. */
export function fromBase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error("not base64url");
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function deflateRaw(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Inflate, refusing to produce more than `limit` bytes (a tiny link must not expand into gigabytes). */
export async function inflateRaw(bytes, limit = 1 << 20) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) { await reader.cancel().catch(() => {}); throw new Error("inflated data too large"); }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
