// The page's shareable state ⇄ a URL fragment: "#v1." + base64url(deflate-raw(JSON)). Pure and DOM-free.
// A fragment never reaches the server, so a link carries the whole program with no stored state.
// Decoding never throws: garbage, damage or an unknown version give the defaults, field by field.
import { canCompress, deflateRaw, fromBase64url, fromUtf8, inflateRaw, toBase64url, utf8 } from "./codec.js";

export const VERSION = 1;
export const MAX_CODE = 200_000; // characters; the server refuses far less, this only bounds a hostile link

/** Every field a link can set; null = "whatever the page would do" (e.g. step null: start, or the end of a failed run). */
export const DEFAULTS = Object.freeze({
  code: null, seed: 0, step: null, theme: null, collapsed: null, presenter: false, rankdir: null, quiz: false,
});

// JSON keys are one letter: links stay short, and a renamed field can never silently change meaning.
const KEYS = { code: "c", seed: "s", step: "k", theme: "t", collapsed: "g", presenter: "p", rankdir: "d", quiz: "q" };

const CHECK = {
  code: (v) => typeof v === "string" && v.length <= MAX_CODE,
  seed: (v) => Number.isSafeInteger(v),
  step: (v) => Number.isSafeInteger(v) && v >= 0,
  theme: (v) => v === "light" || v === "dark",
  collapsed: (v) => Array.isArray(v) && v.length <= 10_000 && v.every((x) => typeof x === "string" && x.length <= 500),
  presenter: (v) => typeof v === "boolean",
  rankdir: (v) => v === "LR" || v === "TB",
  quiz: (v) => typeof v === "boolean",
};

/** Keep the valid fields of `raw` (any value), defaults for the rest. */
export function sanitize(raw) {
  const out = { ...DEFAULTS };
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return out;
  for (const f of Object.keys(DEFAULTS)) if (Object.hasOwn(raw, f) && raw[f] !== null && CHECK[f](raw[f])) out[f] = f === "collapsed" ? [...raw[f]] : raw[f];
  return out;
}

/** The compact JSON object for a state (fields at their default are left out). */
export function toWire(state) {
  const s = sanitize(state);
  const wire = { v: VERSION };
  for (const [f, k] of Object.entries(KEYS)) if (s[f] !== DEFAULTS[f]) wire[k] = s[f];
  return wire;
}

export function fromWire(wire) {
  if (!wire || typeof wire !== "object" || wire.v !== VERSION) return { ...DEFAULTS };
  const raw = {};
  for (const [f, k] of Object.entries(KEYS)) if (Object.hasOwn(wire, k)) raw[f] = wire[k];
  return sanitize(raw);
}

/** State → fragment text (no leading "#"). Without CompressionStream the JSON goes uncompressed ("v1j."). */
export async function encodeState(state, { compress = canCompress() } = {}) {
  const bytes = utf8(JSON.stringify(toWire(state)));
  return compress ? `v${VERSION}.${toBase64url(await deflateRaw(bytes))}` : `v${VERSION}j.${toBase64url(bytes)}`;
}

/** Fragment text (with or without "#") → state; anything unreadable → DEFAULTS. */
export async function decodeState(fragment) {
  try {
    const m = /^#?v(\d+)(j?)\.([A-Za-z0-9_-]*)$/.exec(String(fragment ?? "").trim());
    if (!m || Number(m[1]) !== VERSION) return { ...DEFAULTS };
    let bytes = fromBase64url(m[3]);
    if (!m[2]) bytes = await inflateRaw(bytes, 4 * MAX_CODE + 65_536);
    return fromWire(JSON.parse(fromUtf8(bytes)));
  } catch {
    return { ...DEFAULTS };
  }
}

/** True when `fragment` looks like one of ours (so a page can tell "no state" from "damaged link"). */
export function isStateFragment(fragment) {
  return /^#?v\d+j?\./.test(String(fragment ?? ""));
}

const ATTR = { "&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;" };
const attr = (v) => String(v).replace(/[&"<>]/g, (c) => ATTR[c]);

/** The HTML a lecturer pastes into a course page or slide: an iframe on the embed view. */
export function embedCode(src, { width = 800, height = 560, title = "gradtrace: autograd, step by step" } = {}) {
  const w = Math.max(200, Math.round(Number(width) || 800)), h = Math.max(200, Math.round(Number(height) || 560));
  return `<iframe src="${attr(src)}" width="${w}" height="${h}" title="${attr(title)}" `
    + `style="border:1px solid #d9dee8;border-radius:8px;max-width:100%" loading="lazy" allowfullscreen></iframe>`;
}
