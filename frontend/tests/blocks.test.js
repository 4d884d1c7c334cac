// Steps at block level (model/blocks.js, teach/block-narration.js): a step inside a closed module block is told as the
// block's story, with the trace's own numbers; opened, the same step is told at node level; step by block.
import { test } from "node:test";
import assert from "node:assert/strict";
import { model } from "./helpers.js";
import { collapsedAt } from "../static/js/layout/levels.js";
import { narrate } from "../static/js/teach/narration.js";
import { stateAt } from "../static/js/model/state.js";
import { shownBlock, blockSpan, blockBorder, leavingAt, nextBlockEnd, prevBlockStart, blockAt } from "../static/js/model/blocks.js";
import { flat } from "../static/js/model/values.js";
import { fmtValues } from "../static/js/model/format.js";

const V = (v) => fmtValues(v, { maxItems: 6 });
// module-blocks: net.blocks.0..2 (Linear + tanh; 1 and 2 folded as "Block ×2"), net.head; x = ones(1, 2), mse loss
const m = model("module-blocks");
const { tl, graph: g, code } = m;
const level1 = collapsedAt(g, 1); // net's children closed: blocks.0, the fold, head
const byPath = new Map([...g.groups.values()].filter((x) => x.module && !x.fold).map((x) => [x.path, x.key]));
const calls = new Set([...g.groups.values()].filter((x) => x.call).map((x) => x.key)); // call groups closed, every block open
const backSteps = () => tl.entries.map((e, i) => ({ e, k: i + 1 })).filter((x) => x.e.kind === "backward");
const nodeAt = (k) => { const e = tl.entries[k - 1]; return tl.trace.backward[e.pass].steps[e.index].node; };

test("shownBlock: the outermost closed block around a node; a folded block names the block inside the fold", () => {
  const head = byPath.get("net.head"), b2 = byPath.get("net.blocks.2");
  const inHead = backSteps().find(({ k }) => blockSpan(tl, 0, head).length && g.nodes.get(`n:${nodeAt(k)}`).group === head);
  assert.deepEqual(shownBlock(g, level1, `n:${nodeAt(inHead.k)}`), { box: head, block: head, fold: null });
  const fold = g.groups.get(b2).parent;
  assert.ok(g.groups.get(fold).fold, "blocks.2 sits in the fold");
  const tanh2 = [...g.nodes.values()].find((d) => d.type === "op" && d.label === "TanhBackward0" && shownBlock(g, level1, d.key)?.block === b2);
  assert.deepEqual(shownBlock(g, level1, tanh2.key), { box: fold, block: b2, fold });
  assert.equal(shownBlock(g, new Set(), tanh2.key), null, "nothing closed: no block");
  assert.equal(shownBlock(g, calls, tanh2.key), null, "only call groups closed: node level");
});

test("backward at block level: enters through the output with the engine's own gradient, i of n, leaves through the input", () => {
  const said = new Map();
  for (const { k } of backSteps()) said.set(k, narrate(tl, k, { source: code, collapsed: level1 }));
  const b2 = byPath.get("net.blocks.2");
  const span = blockSpan(tl, 0, b2), steps = tl.trace.backward[0].steps;
  assert.equal(span.length, 5, "TanhBackward0, AddmmBackward0, TBackward0 and the two AccumulateGrads");
  const k0 = tl.entries.findIndex((e) => e.kind === "backward" && e.index === span[0]) + 1;
  const first = said.get(k0), last = said.get(k0 + span.length - 1);
  assert.match(first.title, /^Backward pass 1\/1 · \d+\/20 · block net\.blocks\.2 · 1\/5$/);
  // the gradient entering through x₃ is what TanhBackward0 received (every gradient it got came from outside)
  const tanh = steps[span[0]];
  assert.ok(first.text.includes(`The gradient enters block net.blocks.2 (Block, folded into "Block ×2") through its output x₃: dL/dx₃ = ${V(tanh.grad_outputs[0])}.`), first.text);
  assert.match(first.text, /Inside it the engine runs node 1 of 5: TanhBackward0/);
  for (let i = 1; i < span.length - 1; i++) assert.match(said.get(k0 + i).text, new RegExp(`node ${i + 1} of 5`));
  assert.match(last.title, / · 5\/5$/);
  // leaving: what AddmmBackward0 sent to blocks.1's TanhBackward0 = what blocks.1 receives next
  const out = leavingAt(tl, 0, b2);
  assert.equal(out.length, 1);
  assert.ok(last.text.includes(`the gradient leaves block net.blocks.2 (Block, folded into "Block ×2") through its input: dL/dx₂ = ${V(out[0].sum)}.`), last.text);
  const next = said.get(k0 + span.length);
  assert.ok(next.text.includes(`through its output x₂: dL/dx₂ = ${V(out[0].sum)}`), "blocks.1 receives what left blocks.2");
  assert.deepEqual(flat(steps[span[span.length]]?.grad_outputs?.[0] ?? null) ?? flat(out[0].sum), flat(out[0].sum));
  assert.match(last.text, /On the way 2 parameters of the block got their \.grad\./);
  // the first block: x does not require grad, nothing leaves
  const b0 = byPath.get("net.blocks.0"), s0 = blockSpan(tl, 0, b0);
  const end0 = tl.entries.findIndex((e) => e.kind === "backward" && e.index === s0[s0.length - 1]) + 1;
  assert.match(said.get(end0).text, /No gradient leaves block net\.blocks\.0 \(Block\) through its inputs: none of them requires grad\./);
});

test("the border is the trace's sends: every gradient entering one block left the block before it", () => {
  const head = byPath.get("net.head"), b2 = byPath.get("net.blocks.2"), b1 = byPath.get("net.blocks.1");
  for (const [from, to] of [[head, b2], [b2, b1]]) {
    const left = leavingAt(tl, 0, from).filter((x) => !x.param);
    const entered = [...blockBorder(tl, 0, to).enter.values()].flat();
    assert.equal(left.length, 1);
    assert.deepEqual(entered.map((x) => flat(x.values)), left[0].parts.map((x) => flat(x.values)));
  }
});

test("opened (no block closed) the same step is told at node level, as before", () => {
  for (const { k } of backSteps()) {
    assert.deepEqual(narrate(tl, k, { source: code, collapsed: new Set() }), narrate(tl, k, { source: code }));
    const open = stateAt(tl, k, { source: code, collapsed: calls }).narration;
    assert.doesNotMatch(open.title, /block/);
  }
  const k = backSteps().find(({ k }) => blockAt(tl, k, level1)).k;
  assert.match(stateAt(tl, k, { source: code, collapsed: level1 }).narration.title, / · block /, "state at (trace, k, view)");
});

test("forward at block level: the block starts with its input, op i of n, its output at the last op", () => {
  const b1 = byPath.get("net.blocks.1");
  const ks = tl.entries.map((e, i) => [e, i + 1]).filter(([e, k]) => e.kind === "forward" && blockAt(tl, k, level1) && shownBlock(g, level1, `n:${tl.trace.forward[e.index].node}`)?.block === b1).map(([, k]) => k);
  assert.equal(ks.length, 2, "linear and tanh");
  const [a, b] = ks.map((k) => narrate(tl, k, { source: code, collapsed: level1 }));
  assert.match(a.title, /^Forward \d+\/\d+ · block net\.blocks\.1 · 1\/2$/);
  const s1 = tl.trace.forward[tl.entries[ks[1] - 1].index];
  assert.match(a.text, /^Block net\.blocks\.1 \(Block, folded into "Block ×2"\) starts: its input x₁ = \[\[/);
  assert.match(a.text, /computes op 1 of 2, linear in net\.blocks\.1\.fc/);
  assert.ok(b.text.includes(`computes op 2 of 2, tanh`), b.text);
  assert.ok(b.text.includes(`its output x₂ = ${V(s1.values[0])} goes on`), b.text);
});

test("step by block: Shift+→ ends where the gradient leaves the block, Shift+← goes before its first step", () => {
  const b2 = byPath.get("net.blocks.2"), span = blockSpan(tl, 0, b2);
  const k0 = tl.entries.findIndex((e) => e.kind === "backward" && e.index === span[0]) + 1, kEnd = k0 + span.length - 1;
  assert.equal(nextBlockEnd(tl, k0 - 1, level1), kEnd, "from just before the block: to its last node");
  assert.equal(nextBlockEnd(tl, k0 + 1, level1), kEnd, "from inside it: to its last node");
  assert.equal(nextBlockEnd(tl, k0, level1), kEnd, "from its first node: to its last node");
  assert.equal(nextBlockEnd(tl, kEnd, level1), kEnd + blockSpan(tl, 0, byPath.get("net.blocks.1")).length, "from its last node: over the next block");
  assert.equal(prevBlockStart(tl, kEnd, level1), k0 - 1);
  assert.equal(prevBlockStart(tl, k0 + 2, level1), k0 - 1);
  const open = new Set();
  assert.equal(nextBlockEnd(tl, k0, open), k0 + 1, "nothing closed: one step");
  assert.equal(prevBlockStart(tl, k0, open), k0 - 1);
  assert.equal(nextBlockEnd(tl, tl.total, level1), tl.total);
  assert.equal(prevBlockStart(tl, 0, level1), 0);
  // every block run is stepped over whole: going forward by block visits exactly the runs' last steps
  const seen = [];
  for (let k = 0; k < tl.total;) { k = nextBlockEnd(tl, k, level1); seen.push(k); }
  assert.ok(seen.includes(kEnd) && !seen.includes(k0));
});
