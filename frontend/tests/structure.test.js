// The page's modules import one way: this lists every import cycle among them (there must be none).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const jsRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "static", "js");

function modules(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? modules(p) : p.endsWith(".js") ? [p] : [];
  });
}

export function importGraph(root) {
  const graph = new Map();
  for (const file of modules(root)) {
    const text = readFileSync(file, "utf8");
    const deps = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^"'`;]*?from\s*["'](\.{1,2}\/[^"']+)["']/g)]
      .map((m) => resolve(dirname(file), m[1]));
    graph.set(file, deps.filter((d) => !d.includes(`${join("static", "vendor")}`)));
  }
  return graph;
}

export function cycles(graph) {
  const found = [];
  const state = new Map();
  const stack = [];
  const visit = (f) => {
    state.set(f, "open");
    stack.push(f);
    for (const d of graph.get(f) || []) {
      if (state.get(d) === "open") found.push(stack.slice(stack.indexOf(d)).concat(d));
      else if (!state.has(d) && graph.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

test("the cycle finder finds a planted cycle", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(cycles(g).map((c) => c.join(">")), ["a>b>c>a"]);
});

test("the page's modules have no import cycle", () => {
  const rel = (p) => p.slice(jsRoot.length + 1);
  const found = cycles(importGraph(jsRoot)).map((c) => c.map(rel).join(" → "));
  assert.deepEqual(found, [], `import cycles:\n${found.join("\n")}`);
});

test("teach/ and layout/ never import the page's view or wiring", () => {
  const graph = importGraph(jsRoot);
  for (const [file, deps] of graph) {
    if (!/[\\/](teach|layout|model|wire)[\\/]/.test(file)) continue;
    for (const d of deps) assert.doesNotMatch(d, /[\\/]view[\\/]|app\.js$|stage\.js$/, `${file} imports ${d}`);
  }
});
