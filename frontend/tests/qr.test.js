// The QR encoder against an independent one (segno's symbols in fixtures/qr/vectors.json, made by
// tools/qr_vectors.py) and against a small reader written here from the spec: format bits, unmask, zigzag,
// de-interleave, Reed–Solomon syndromes, byte-mode payload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { encodeQr, formatBits, penalty, rsRemainder, versionBits } from "../static/js/class/qr.js";

const vectors = JSON.parse(readFileSync(new URL("./fixtures/qr/vectors.json", import.meta.url), "utf8"));
const rows = (qr) => qr.modules.map((r) => r.map((v) => (v ? "1" : "0")).join(""));

test("every module equals segno's symbol for the same text, version and mask", () => {
  for (const v of vectors) {
    const qr = encodeQr(v.text, { minVersion: v.version, mask: v.mask });
    assert.equal(qr.version, v.version, v.text);
    assert.deepEqual(rows(qr), v.rows, `${v.text.slice(0, 30)} v${v.version} mask ${v.mask}`);
  }
});

test("the smallest version that holds the text is chosen, as segno chooses it", () => {
  for (const v of vectors.filter((x) => !x.forced_mask || x.version > 1)) {
    assert.equal(encodeQr(v.text).version, v.version, v.text.slice(0, 40));
  }
});

test("the chosen mask has the lowest penalty of the eight", () => {
  const text = "https://gradtrace.example/c/K7QX2M";
  const auto = encodeQr(text);
  const scores = [0, 1, 2, 3, 4, 5, 6, 7].map((m) => penalty(encodeQr(text, { mask: m }).modules));
  assert.equal(penalty(auto.modules), Math.min(...scores));
  assert.equal(scores.indexOf(Math.min(...scores)), auto.mask);
});

test("known constants: format info of level M, version info of 7, an RS remainder", () => {
  assert.equal(formatBits(0), 0b101010000010010); // the spec's table: M, mask 0
  assert.equal(formatBits(5), 0b100000011001110);
  assert.equal(versionBits(7), 0x07c94);
  // ISO 18004 Annex I: "01234567" at 1-M, data codewords → EC codewords
  const data = [0x10, 0x20, 0x0c, 0x56, 0x61, 0x80, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11];
  assert.deepEqual(rsRemainder(data, 10), [0xa5, 0x24, 0xd4, 0xc1, 0xed, 0x36, 0xc7, 0x87, 0x2c, 0x55]);
});

test("a reader written from the spec gets every text back, with zero RS syndromes", () => {
  for (const text of ["HELLO", "http://127.0.0.1:27000/c/ABC234", "ünïcode ✓", "q".repeat(120), "z".repeat(213)]) {
    assert.equal(read(encodeQr(text)), text);
  }
  assert.throws(() => encodeQr("z".repeat(214)), RangeError);
});

// ---- the reader ----
const BLOCKS = { 1: [10, 1, 16, 0, 0], 2: [16, 1, 28, 0, 0], 3: [26, 1, 44, 0, 0], 4: [18, 2, 32, 0, 0], 5: [24, 2, 43, 0, 0],
  6: [16, 4, 27, 0, 0], 7: [18, 4, 31, 0, 0], 8: [22, 2, 38, 2, 39], 9: [22, 3, 36, 2, 37], 10: [26, 4, 43, 1, 44] };
const MASK = [(r, c) => (r + c) % 2 === 0, (r) => r % 2 === 0, (r, c) => c % 3 === 0, (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0, (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0, (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0];
const ALIGN = { 1: [], 2: [6, 18], 3: [6, 22], 4: [6, 26], 5: [6, 30], 6: [6, 34], 7: [6, 22, 38], 8: [6, 24, 42], 9: [6, 26, 46], 10: [6, 28, 50] };

function read({ modules: m }) {
  const n = m.length, v = (n - 17) / 4;
  let fmt = 0; // first copy, bit 14 first: (8,0..5),(8,7),(8,8),(7,8),(5..0,8)
  const cells = [[8, 0], [8, 1], [8, 2], [8, 3], [8, 4], [8, 5], [8, 7], [8, 8], [7, 8], [5, 8], [4, 8], [3, 8], [2, 8], [1, 8], [0, 8]];
  for (const [r, c] of cells) fmt = (fmt << 1) | (m[r][c] ? 1 : 0);
  fmt ^= 0x5412;
  assert.equal(fmt >>> 13, 0, "level M");
  const mask = (fmt >>> 10) & 7;
  const reserved = (r, c) => {
    if ((r < 9 && c < 9) || (r < 9 && c >= n - 8) || (r >= n - 8 && c < 9) || r === 6 || c === 6) return true;
    if (v >= 7 && ((r < 6 && c >= n - 11) || (c < 6 && r >= n - 11))) return true;
    const a = ALIGN[v];
    return a.some((ar) => a.some((ac) => !((ar === 6 && ac === 6) || (ar === 6 && ac === a.at(-1)) || (ar === a.at(-1) && ac === 6))
      && Math.abs(r - ar) <= 2 && Math.abs(c - ac) <= 2));
  };
  const bits = [];
  for (let right = n - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const up = ((right + 1) & 2) === 0;
    for (let k = 0; k < n; k++) {
      const r = up ? n - 1 - k : k;
      for (const c of [right, right - 1]) if (!reserved(r, c)) bits.push(m[r][c] !== MASK[mask](r, c) ? 1 : 0);
    }
  }
  const cw = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) cw.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  const [ec, b1, d1, b2, d2] = BLOCKS[v];
  const blocks = Array.from({ length: b1 + b2 }, (_, i) => ({ len: i < b1 ? d1 : d2, d: [], e: [] }));
  let at = 0;
  for (let i = 0; i < Math.max(d1, d2); i++) for (const b of blocks) if (i < b.len) b.d.push(cw[at++]);
  for (let i = 0; i < ec; i++) for (const b of blocks) b.e.push(cw[at++]);
  for (const b of blocks) assert.ok(syndromesZero([...b.d, ...b.e], ec), "RS syndromes");
  const data = blocks.flatMap((b) => b.d);
  const stream = data.flatMap((x) => [7, 6, 5, 4, 3, 2, 1, 0].map((i) => (x >>> i) & 1));
  const take = (k) => { const x = stream.splice(0, k).reduce((a, b) => (a << 1) | b, 0); return x; };
  assert.equal(take(4), 0b0100, "byte mode");
  const len = take(v < 10 ? 8 : 16);
  return new TextDecoder().decode(Uint8Array.from({ length: len }, () => take(8)));
}

function syndromesZero(word, ec) { // evaluate the codeword polynomial at α^0..α^(ec-1)
  const exp = [], log = [];
  for (let i = 0, x = 1; i < 255; i++) { exp[i] = x; log[x] = i; x = (x << 1) ^ (x & 0x80 ? 0x11d : 0); }
  const mul = (a, b) => (a && b ? exp[(log[a] + log[b]) % 255] : 0);
  for (let i = 0; i < ec; i++) {
    let s = 0;
    for (const c of word) s = mul(s, exp[i]) ^ c;
    if (s) return false;
  }
  return true;
}
