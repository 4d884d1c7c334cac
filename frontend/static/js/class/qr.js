// A small QR code encoder (ISO/IEC 18004): byte mode, error correction level M, versions 1–10. Pure: text in,
// a matrix of dark/light modules out, so the join code is drawn locally (no network, no library).

// Level M per version: [EC codewords per block, blocks in group 1, data codewords each, blocks in group 2, data each].
const BLOCKS_M = [null,
  [10, 1, 16, 0, 0], [16, 1, 28, 0, 0], [26, 1, 44, 0, 0], [18, 2, 32, 0, 0], [24, 2, 43, 0, 0],
  [16, 4, 27, 0, 0], [18, 4, 31, 0, 0], [22, 2, 38, 2, 39], [22, 3, 36, 2, 37], [26, 4, 43, 1, 44]];
const ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]];
export const MAX_VERSION = 10;
const FORMAT_BITS_M = 0; // level M's two format bits (L=01, M=00, Q=11, H=10)

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
const EXP = new Uint8Array(512), LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) { EXP[i] = x; LOG[x] = i; x = (x << 1) ^ (x & 0x80 ? 0x11d : 0); }
for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
const mul = (a, b) => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

/** Reed–Solomon EC codewords of `data` (n of them): the remainder of data·x^n by ∏(x − α^i). */
export function rsRemainder(data, n) {
  let gen = [1];
  for (let i = 0; i < n; i++) { // gen *= (x - α^i), highest power first
    const next = new Array(gen.length + 1).fill(0);
    gen.forEach((g, j) => { next[j] ^= g; next[j + 1] ^= mul(g, EXP[i]); });
    gen = next;
  }
  const rem = new Array(n).fill(0);
  for (const d of data) {
    const f = d ^ rem.shift();
    rem.push(0);
    for (let j = 0; j < n; j++) rem[j] ^= mul(gen[j + 1], f);
  }
  return rem;
}

const dataCapacity = (v) => { const [, b1, d1, b2, d2] = BLOCKS_M[v]; return b1 * d1 + b2 * d2; };
const countBits = (v) => (v < 10 ? 8 : 16);

/** The data codewords of `bytes` at version v (mode, count, data, terminator, pad), or null when they do not fit. */
function dataCodewords(bytes, v) {
  const cap = dataCapacity(v) * 8;
  const bits = [];
  const put = (val, n) => { for (let i = n - 1; i >= 0; i--) bits.push((val >>> i) & 1); };
  put(0b0100, 4);
  put(bytes.length, countBits(v));
  for (const b of bytes) put(b, 8);
  if (bits.length > cap) return null;
  put(0, Math.min(4, cap - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < cap; pad ^= 0xec ^ 0x11) put(pad, 8);
  const out = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  return out;
}

/** Split into blocks, add each block's EC codewords, interleave. */
function interleave(data, v) {
  const [ec, b1, d1, b2, d2] = BLOCKS_M[v];
  const blocks = [];
  let at = 0;
  for (let i = 0; i < b1 + b2; i++) {
    const n = i < b1 ? d1 : d2;
    const d = data.slice(at, at + n);
    at += n;
    blocks.push({ d, e: rsRemainder(d, ec) });
  }
  const out = [];
  for (let i = 0; i < Math.max(d1, d2); i++) for (const b of blocks) if (i < b.d.length) out.push(b.d[i]);
  for (let i = 0; i < ec; i++) for (const b of blocks) out.push(b.e[i]);
  return out;
}

const MASKS = [
  (r, c) => (r + c) % 2 === 0, (r) => r % 2 === 0, (r, c) => c % 3 === 0, (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0, (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0, (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

/** 15-bit format information of level M with `mask` (BCH(15,5), XOR 0x5412). */
export function formatBits(mask) {
  const data = (FORMAT_BITS_M << 3) | mask;
  let rem = data;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return ((data << 10) | rem) ^ 0x5412;
}

/** 18-bit version information (versions 7 and up; BCH(18,6)). */
export function versionBits(v) {
  let rem = v;
  for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
  return (v << 12) | rem;
}

/** The function patterns of version v: {size, dark, fixed} (fixed marks modules data may not use). */
function template(v) {
  const size = 17 + 4 * v;
  const dark = Array.from({ length: size }, () => new Array(size).fill(false));
  const fixed = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (r, c, on) => { dark[r][c] = on; fixed[r][c] = true; };
  for (let i = 0; i < size; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); } // timing
  for (const [r0, c0] of [[3, 3], [3, size - 4], [size - 4, 3]]) { // finders with their separators
    for (let dr = -4; dr <= 4; dr++) for (let dc = -4; dc <= 4; dc++) {
      const r = r0 + dr, c = c0 + dc;
      if (r < 0 || c < 0 || r >= size || c >= size) continue;
      const d = Math.max(Math.abs(dr), Math.abs(dc));
      set(r, c, d !== 2 && d !== 4);
    }
  }
  const al = ALIGN[v];
  for (const r of al) for (const c of al) {
    if ((r === 6 && c === 6) || (r === 6 && c === al.at(-1)) || (r === al.at(-1) && c === 6)) continue; // under a finder
    for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
  }
  drawFormat(dark, fixed, 0);
  if (v >= 7) {
    const bits = versionBits(v);
    for (let i = 0; i < 18; i++) {
      const on = ((bits >>> i) & 1) === 1, a = size - 11 + (i % 3), b = Math.floor(i / 3);
      set(b, a, on); set(a, b, on);
    }
  }
  return { size, dark, fixed };
}

/** Both copies of the format information, and the dark module. */
function drawFormat(dark, fixed, mask) {
  const size = dark.length, bits = formatBits(mask);
  const set = (r, c, i) => { dark[r][c] = ((bits >>> i) & 1) === 1; fixed[r][c] = true; };
  for (let i = 0; i <= 5; i++) set(i, 8, i);
  set(7, 8, 6); set(8, 8, 7); set(8, 7, 8);
  for (let i = 9; i < 15; i++) set(8, 14 - i, i);
  for (let i = 0; i < 8; i++) set(8, size - 1 - i, i);
  for (let i = 8; i < 15; i++) set(size - 15 + i, 8, i);
  dark[size - 8][8] = true; fixed[size - 8][8] = true;
}

/** Place codewords in the two-column zigzag, right to left, skipping function modules. */
function place(dark, fixed, codewords) {
  const size = dark.length;
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5; // the vertical timing column
    const up = ((right + 1) & 2) === 0;
    for (let k = 0; k < size; k++) {
      const r = up ? size - 1 - k : k;
      for (const c of [right, right - 1]) {
        if (fixed[r][c]) continue;
        dark[r][c] = i < codewords.length * 8 && ((codewords[i >>> 3] >>> (7 - (i & 7))) & 1) === 1; // remainder bits: 0
        i++;
      }
    }
  }
}

/** The spec's penalty score of a masked symbol (rules N1 runs, N2 blocks, N3 finder-like, N4 balance). */
export function penalty(m) {
  const n = m.length;
  let score = 0, darkCount = 0;
  const lines = [];
  for (let i = 0; i < n; i++) { lines.push(m[i]); lines.push(m.map((row) => row[i])); }
  for (const line of lines) {
    let run = 1;
    for (let j = 1; j <= n; j++) {
      if (j < n && line[j] === line[j - 1]) { run++; continue; }
      if (run >= 5) score += run - 2;
      run = 1;
    }
    for (let j = 0; j + 7 <= n; j++) {
      const core = line[j] && !line[j + 1] && line[j + 2] && line[j + 3] && line[j + 4] && !line[j + 5] && line[j + 6];
      if (!core) continue;
      const light = (a, b) => { for (let k = a; k < b; k++) if (k >= 0 && k < n && line[k]) return false; return true; };
      if (light(j - 4, j) || light(j + 7, j + 11)) score += 40;
    }
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    if (m[r][c]) darkCount++;
    if (r + 1 < n && c + 1 < n && m[r][c] === m[r][c + 1] && m[r][c] === m[r + 1][c] && m[r][c] === m[r + 1][c + 1]) score += 3;
  }
  return score + 10 * Math.floor(Math.abs((darkCount * 100) / (n * n) - 50) / 5);
}

/**
 * Encode `text` (UTF-8) as a level-M QR code of the smallest version ≥ minVersion that holds it.
 * `mask` forces a mask (0–7); by default the one with the lowest penalty. Throws when it needs more than version 10.
 * Returns {version, size, mask, modules} where modules[row][col] is true for dark.
 */
export function encodeQr(text, { minVersion = 1, mask = null } = {}) {
  const bytes = [...new TextEncoder().encode(text)];
  let v = minVersion, data = null;
  for (; v <= MAX_VERSION; v++) if ((data = dataCodewords(bytes, v))) break;
  if (!data) throw new RangeError(`too long for a version-${MAX_VERSION} QR code (${bytes.length} bytes)`);
  const codewords = interleave(data, v);
  let best = null;
  for (const k of mask === null ? [0, 1, 2, 3, 4, 5, 6, 7] : [mask]) {
    const { size, dark, fixed } = template(v);
    place(dark, fixed, codewords);
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) if (!fixed[r][c] && MASKS[k](r, c)) dark[r][c] = !dark[r][c];
    drawFormat(dark, fixed, k);
    const p = mask === null ? penalty(dark) : 0;
    if (!best || p < best.p) best = { p, version: v, size, mask: k, modules: dark };
  }
  return { version: best.version, size: best.size, mask: best.mask, modules: best.modules };
}

/** An SVG path ("M c r h1v1h-1z" per dark module) of the modules, offset by a quiet zone of `border` modules. */
export function qrPath(qr, border = 4) {
  const parts = [];
  qr.modules.forEach((row, r) => row.forEach((on, c) => { if (on) parts.push(`M${c + border} ${r + border}h1v1h-1z`); }));
  return parts.join("");
}
