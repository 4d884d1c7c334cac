import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULTS, MAX_CODE, decodeState, embedCode, encodeState, fromWire, isStateFragment, sanitize, toWire } from "../static/js/wire/url-state.js";
import { deflateRaw, fromBase64url, toBase64url, utf8 } from "../static/js/wire/codec.js";
import { fixture } from "./helpers.js";

const full = {
  code: "import torch\na = torch.tensor([1., 2.], requires_grad=True)\nprint('héllo ✓ 😀 </script>')\n",
  seed: 42, step: 7, theme: "dark", collapsed: ["model", "model.0"], presenter: true, rankdir: "TB", quiz: true,
};

test("round trip: every field, compressed and plain", async () => {
  for (const compress of [true, false]) {
    const frag = await encodeState(full, { compress });
    assert.match(frag, compress ? /^v1\.[A-Za-z0-9_-]+$/ : /^v1j\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(await decodeState(frag), full);
    assert.deepEqual(await decodeState(`#${frag}`), full, "a leading # is fine");
  }
});

test("defaults are left out of the link, and come back as defaults", async () => {
  assert.deepEqual(toWire({ code: "x" }), { v: 1, c: "x" });
  assert.deepEqual(await decodeState(await encodeState({})), DEFAULTS);
  assert.deepEqual(await decodeState(await encodeState({ code: "x", step: 0 })), { ...DEFAULTS, code: "x", step: 0 });
});

test("a real gallery program compresses well below its size", async () => {
  const { code } = fixture("mlp-training-step");
  const frag = await encodeState({ code, seed: 0, step: 12 });
  assert.ok(frag.length < code.length, `${frag.length} vs ${code.length}`);
  assert.equal((await decodeState(frag)).code, code);
});

test("garbage, damage and unknown versions give the defaults without throwing", async () => {
  const good = await encodeState(full);
  const bad = ["", "#", null, undefined, 42, "hello", "#v1.", "#v1.!!!!", "v1.AAAA", "v2." + good.slice(3), "v0j.e30",
    good.slice(0, good.length - 5), good.replace(/.$/, (c) => (c === "A" ? "B" : "A")) + "x", "#v1j." + "A".repeat(5),
    "#v1j." + toBase64url(utf8("[1,2]")), "#v1j." + toBase64url(utf8('{"v":2,"c":"x"}')), "#v1j." + toBase64url(new Uint8Array([0xff, 0xfe, 0x80]))];
  for (const b of bad) assert.deepEqual(await decodeState(b), DEFAULTS, String(b));
});

test("fields of the wrong type fall back one by one", async () => {
  const wire = { v: 1, c: "ok", s: "7", k: -3, t: "neon", g: [1, 2], p: "yes", d: "RL" };
  assert.deepEqual(fromWire(wire), { ...DEFAULTS, code: "ok" });
  const frag = "v1j." + toBase64url(utf8(JSON.stringify({ v: 1, c: "x", s: 1.5, k: 3, t: "light", g: "model" })));
  assert.deepEqual(await decodeState(frag), { ...DEFAULTS, code: "x", step: 3, theme: "light" });
  assert.deepEqual(sanitize({ __proto__: { code: "inherited" } }), DEFAULTS, "only own fields count");
  assert.deepEqual(sanitize([1, 2]), DEFAULTS);
});

test("a decompression bomb is refused", async () => {
  const big = utf8(JSON.stringify({ v: 1, c: "x".repeat(5 * MAX_CODE) }));
  const frag = "v1." + toBase64url(await deflateRaw(big));
  assert.ok(frag.length < 10_000, "it is a small link");
  assert.deepEqual(await decodeState(frag), DEFAULTS);
});

test("base64url has no +, / or = and refuses other characters", () => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  const text = toBase64url(bytes);
  assert.doesNotMatch(text, /[+/=]/);
  assert.deepEqual(fromBase64url(text), bytes);
  assert.throws(() => fromBase64url("ab+c"));
});

test("isStateFragment tells our fragments from others", async () => {
  assert.ok(isStateFragment("#" + (await encodeState(full))));
  assert.ok(!isStateFragment("#section-2"));
  assert.ok(!isStateFragment(""));
});

test("embed code is one iframe with escaped attributes", () => {
  const html = embedCode('https://x.example/embed#v1.a"b<c>&', { width: 640.4, height: "480", title: 'say "hi"' });
  assert.match(html, /^<iframe src="https:\/\/x\.example\/embed#v1\.a&quot;b&lt;c&gt;&amp;" width="640" height="480" title="say &quot;hi&quot;" /);
  assert.match(html, /><\/iframe>$/);
  assert.match(embedCode("/embed", { width: "nope", height: 10 }), /width="800" height="200"/);
});
