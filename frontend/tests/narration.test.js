import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { narrate } from "../static/js/teach/narration.js";

const all = (name) => {
  const m = model(name);
  return { ...m, texts: Array.from({ length: m.tl.total + 1 }, (_, k) => narrate(m.tl, k, { source: m.code }).text) };
};

test("basic a*b: MulBackward0 explains what it receives and sends, with numbers", () => {
  const { texts } = all("basic-mul");
  assert.ok(texts.includes("MulBackward0 (c = a * b) receives dL/dc = [4, 16, 36] and sends dL/da = b ⊙ dL/dc = [8, 64, 216] and dL/db = a ⊙ dL/dc = [4, 32, 108]."), texts.join("\n"));
  assert.ok(texts.some((t) => t.startsWith("e.backward() (line 8) starts at L = e with dL/dL = 1.")));
  assert.ok(texts.some((t) => /AccumulateGrad for leaf a .* a\.grad = \[8, 64, 216\]/.test(t)));
});

test("every step has its own caption", () => {
  for (const name of ["basic-mul", "apple-tangerine", "zero-grad", "affine-mm2", "mlp-training-step"]) {
    const { texts } = all(name);
    texts.forEach((t) => assert.ok(t.length > 10, name));
    for (let k = 1; k < texts.length; k++) assert.notEqual(texts[k], texts[k - 1], `${name} step ${k}`);
  }
});

test("forward captions quote the line and name the recorded node", () => {
  const { texts } = all("basic-mul");
  assert.ok(texts.some((t) => /^Line 5: c = a \* b → c = \[2, 8, 18\]\. .*MulBackward0/.test(t)));
});

test("accumulation, zeroing, fan-in and hooks are explained", () => {
  assert.ok(all("zero-grad").texts.some((t) => /gradients accumulate/.test(t)));
  assert.ok(all("zero-grad").texts.some((t) => /resets inp\.grad to \[0, 0, 0/.test(t)));
  assert.ok(all("fan-in").texts.some((t) => /3 paths meet here/.test(t)));
  assert.ok(all("register-hook").texts.some((t) => /hook on/.test(t)));
  assert.ok(all("no-grad").texts.some((t) => /Not tracked/.test(t)));
  assert.ok(all("apple-tangerine").texts.some((t) => /retain_grad\(\) keeps it/.test(t)));
});

test("errors are stated at the last step; custom Function names are quoted as given", () => {
  const { texts } = all("xss-names");
  assert.match(texts[texts.length - 1], /The program stopped with ValueError.*\. \u2068<b>bold<\/b>/); // framed as the program's
  assert.ok(texts.some((t) => t.includes("<img src=x onerror=alert(1)>Backward")));
});

const FIXTURES = ["basic-mul", "apple-tangerine", "retain-graph", "zero-grad", "detach-error", "no-grad", "no-grad-inplace", "register-hook",
  "retain-grad", "multi-output", "custom-function-ctx", "affine-mm2", "mlp-training-step", "autograd-grad", "second-derivative",
  "doubling-loop", "fan-in", "caught-errors", "long-loop"];
const PLACEHOLDER = /undefined|NaN|null|dL\/d\?|\bd\/d[a-z]|→ \.|= ,|= \.|= —|\[object/;

test("no narration holds a placeholder", () => {
  for (const name of FIXTURES) {
    const { texts } = all(name);
    texts.forEach((t, k) => assert.doesNotMatch(t, PLACEHOLDER, `${name} step ${k}: ${t}`));
  }
});

test("unnamed intermediates are named by their source text", () => {
  assert.ok(all("autograd-grad").texts.some((t) => t.includes("dL/d(x ** 3 + 2 * x)")));
  assert.ok(all("zero-grad").texts.some((t) => t.includes("dL/d((inp + 1).pow(2))")));
  assert.ok(all("autograd-grad").texts.every((t) => !/pow\(x\)|mul\(x\)/.test(t)));
});

test("broadcast sums, multi-output nodes, gradient=v and freed graphs are said as they are", () => {
  assert.ok(all("mlp-training-step").texts.some((t) => /dL\/dmodel\.fc2\.bias = .*summed over dim 0 .* = \[/.test(t)));
  assert.ok(all("multi-output").texts.some((t) => /SplitBackward0 .* receives dL\/dleft = .* and dL\/dright = /.test(t)));
  assert.ok(all("retain-graph").texts.every((t) => !/dL\/dL = \[/.test(t)));
  const caught = all("caught-errors").texts;
  assert.ok(caught.some((t) => /fails .*Why: MulBackward0 .* already freed them/.test(t)), caught.join("\n"));
  assert.ok(caught.every((t) => !/no input needs a gradient/.test(t)));
});
