import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";

const tensorKeys = (g) => [...g.nodes.values()].filter((d) => d.type === "tensor");
const opKeys = (g) => [...g.nodes.values()].filter((d) => d.type === "op");

test("basic a*b: one box per tensor and per autograd node", () => {
  const { trace, graph } = model("basic-mul");
  assert.equal(opKeys(graph).length, trace.nodes.length);
  assert.equal(tensorKeys(graph).length + [...graph.gradChip.values()].flat().length, trace.tensors.length);
  const kinds = Object.fromEntries(tensorKeys(graph).map((d) => [d.label, d.kind]));
  assert.deepEqual(kinds, { a: "leaf", b: "leaf", c: "intermediate", d: "intermediate", e: "output" });
  const acc = opKeys(graph).filter((d) => d.kind === "accumulate");
  assert.equal(acc.length, 2);
});

test("basic a*b: MulBackward0's gradients travel through a and b to their AccumulateGrad", () => {
  const { trace, graph } = model("basic-mul");
  const mul = trace.nodes.find((n) => n.name === "MulBackward0");
  const names = [0, 1].map((slot) => graph.tensors.get(graph.routes.get(`${mul.id}#${slot}`).via).name);
  assert.deepEqual(names.sort(), ["a", "b"]);
  for (const slot of [0, 1]) {
    const r = graph.routes.get(`${mul.id}#${slot}`);
    assert.equal(r.edges.length, 2);
    r.edges.forEach((k) => assert.ok(graph.edges.has(k), k));
    assert.equal(graph.tnodes.get(r.target).kind, "accumulate");
  }
});

test("every route edge exists and every edge joins drawn nodes", () => {
  for (const name of ["apple-tangerine", "affine-mm2", "mlp-training-step", "multi-output", "second-derivative", "no-grad"]) {
    const { graph } = model(name);
    for (const e of graph.edges.values()) assert.ok(graph.nodes.has(e.source) && graph.nodes.has(e.target), `${name} ${e.key}`);
    for (const [k, r] of graph.routes) for (const ek of r.edges) assert.ok(graph.edges.has(ek), `${name} ${k} ${ek}`);
  }
});

test("custom Functions are their own kind", () => {
  const { graph } = model("custom-function-ctx");
  assert.ok(opKeys(graph).some((d) => d.kind === "custom"));
  const { graph: evil } = model("xss-names");
  const custom = opKeys(evil).find((d) => d.kind === "custom");
  assert.equal(custom.label, "<img src=x onerror=alert(1)>Backward");
});

test("no_grad and detach are drawn as cut (untracked) edges", () => {
  const { graph } = model("no-grad");
  const cut = [...graph.edges.values()].filter((e) => e.kind === "untracked");
  assert.ok(cut.length >= 2);
  assert.ok(cut.some((e) => /detach/.test(e.op)));
});

test("a .grad tensor that is only zeroed is a chip on its owner, not a box", () => {
  const { trace, graph } = model("zero-grad");
  const gradT = trace.tensors.find((t) => t.grad_of);
  assert.deepEqual(graph.gradChip.get(gradT.grad_of), [gradT.id]);
  assert.ok(!graph.nodes.has(`t:${gradT.id}`));
});

test("nn.Module calls become groups holding their ops", () => {
  const { graph } = model("mlp-training-step");
  const paths = [...graph.groups.values()].map((g) => g.path);
  assert.ok(paths.some((p) => /fc1$/.test(p)), paths.join());
  for (const grp of graph.groups.values()) for (const k of grp.members) assert.equal(graph.nodes.get(k).group, grp.key);
});

test("nodes appear in program order (seq), AccumulateGrad with its first user", () => {
  const { graph } = model("basic-mul");
  const seq = (label, type = "tensor") => [...graph.nodes.values()].find((d) => d.label === label && d.type === type).seq;
  assert.ok(seq("a") < seq("b") && seq("b") < seq("c") && seq("c") < seq("e"));
  const acc = [...graph.nodes.values()].filter((d) => d.kind === "accumulate");
  acc.forEach((d) => assert.equal(d.seq, seq("c")));
});
