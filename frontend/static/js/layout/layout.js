// Layered layout of the drawable graph (dagre for small graphs, layout/layered.js past `layeredAbove` nodes),
// made to survive big traces: long edges become short "stub" references and big graphs are cut (in program
// order) into stacked rows.
import dagre from "../../vendor/dagre.js";
import { layeredLayout } from "./layered.js";
import { packGroups, unpackGroups } from "./packed.js";
import { nodeSize, lodText, lodScale } from "./sizes.js";
import { groupChain } from "../model/graph.js";
import { groupText } from "../model/modules.js";

// engine: "auto" (dagre up to layeredAbove layout nodes and edgesAbove edges, then the fast layered layout), "dagre" or
// "layered"; packAbove: an open group of that many boxes and no sub-blocks is laid out apart (layout/packed.js).
export const LAYOUT_DEFAULTS = { rankdir: "LR", chunkSize: null, maxSpan: 8, stubAbove: 30, nodesep: 18, ranksep: 30, chunkGap: 70, engine: "auto", layeredAbove: 400, edgesAbove: 600, packAbove: 12 };
const ATTACH_GAP = 10; // AccumulateGrad tags sit this far under their leaf

/**
 * Positions for every drawable node, edge and group.
 * @returns {{ nodes: Map<string,{x,y,width,height,owner}>, edges: Map<string,{points,stub}>,
 *   stubs: Map<string,{x,y,width,height,label,source,target}>, groups: Map<string,Array<{x,y,width,height,collapsed}>>,
 *   width:number, height:number, chunks:number }}
 */
export function layoutGraph(g, options = {}) {
  const o = { ...LAYOUT_DEFAULTS, ...options };
  const collapsed = o.collapsed || new Set();
  const owner = ownerOf(g, collapsed);
  const lnodes = layoutBoxes(g, o, owner);
  const ledges = new Map();

  for (const e of g.edges.values()) {
    const s = owner(e.source), t = owner(e.target);
    if (s === t) continue;
    const k = `${s}>${t}`;
    if (!ledges.has(k)) ledges.set(k, { key: k, source: s, target: t, members: [] });
    ledges.get(k).members.push(e.key);
  }

  const attached = attachAccumulators(lnodes, ledges);
  const packs = packGroups(g, o, collapsed, lnodes, ledges); // big flat open groups: laid out apart, placed as one box
  const order = [...lnodes.values()].sort((a, b) => (a.seq - b.seq) || (a.key < b.key ? -1 : 1));
  // Rows of ~4·√n nodes keep a long chain's overview near the pane's aspect (and dagre's input small);
  // a mid-size graph that comes out very long or very tall (a chain, 40 parallel iterations) is cut too.
  const n = order.length;
  o.fast = o.engine === "layered" || (o.engine === "auto" && (n > o.layeredAbove || ledges.size > o.edgesAbove)); // dagre is slow on dense graphs (optimizer bookkeeping)
  const size = o.chunkSize ?? Math.max(80, Math.min(400, Math.round(4 * Math.sqrt(n))));
  let res = placeChunks(g, o, collapsed, lnodes, ledges, order, n > 150 ? Math.ceil(n / size) : 1, size);
  const ratio = res.out.width / Math.max(1, res.out.height);
  if (res.out.chunks === 1 && n > 60 && (ratio < 0.5 || ratio > 5)) {
    const small = Math.max(24, Math.round(2 * Math.sqrt(n)));
    res = placeChunks(g, o, collapsed, lnodes, ledges, order, Math.ceil(n / small), small);
  } else if (res.out.chunks === 1 && n > 4 && (ratio < 0.4 || ratio > 4)) {
    // A short chain (a module overview) comes out as a strip: wrapped in rows when that fits a screen bigger.
    const small = Math.max(5, Math.round(1.6 * Math.sqrt(n)));
    const wrapped = placeChunks(g, o, collapsed, lnodes, ledges, order, Math.ceil(n / small), small);
    const fits = (r) => Math.min(1.6 / Math.max(1, r.out.width), 1 / Math.max(1, r.out.height));
    if (fits(wrapped) > 1.15 * fits(res)) res = wrapped;
  }
  const { out, chunkOf } = res;
  unpackGroups(packs, out, ledges);
  placeAttached(attached, out);
  // Nodes folded into a collapsed group sit at the group's box (so gradients can still "arrive" there).
  for (const d of g.nodes.values()) {
    const k = owner(d.key);
    if (k !== d.key) out.nodes.set(d.key, { ...out.nodes.get(k), owner: k });
  }
  for (const e of g.edges.values()) {
    const k = `${owner(e.source)}>${owner(e.target)}`;
    const le = ledges.get(k) ?? attached.edges.get(k);
    if (!le) continue;
    if (le.stubKey !== undefined) { out.edges.set(e.key, { points: le.points, stub: le.stubKey }); continue; } // ran to a pack
    const stub = out.stubs.get(`stub:${k}`);
    out.edges.set(e.key, { points: le.points, stub: stub ? `stub:${k}` : null });
  }
  groupBoxes(g, out, chunkOf, owner, collapsed);
  return out;
}

/** The boxes a layout places (sized, with `lod`): every drawn node not inside a closed group, one per closed group. */
export function layoutBoxes(g, o = {}, owner = ownerOf(g, o.collapsed || new Set())) {
  const lnodes = new Map();
  for (const d of g.nodes.values()) {
    const k = owner(d.key);
    if (!lnodes.has(k)) {
      const grp = g.groups.get(k);
      const base = grp ? { key: k, type: "group", label: grp.label, text: groupText(grp), seq: d.seq, group: grp.parent } : { ...d };
      const ln = { ...base, ...nodeSize(base, d.type === "tensor" ? o.hints?.get(d.id) : null) };
      ln.lod = lodScale(lodText(ln), ln.width, ln.height);
      lnodes.set(k, ln);
    } else if (d.seq < lnodes.get(k).seq) lnodes.get(k).seq = d.seq;
  }
  return lnodes;
}

// An AccumulateGrad whose only edge goes to its leaf is drawn as a tag under that leaf, not a rank of its own.
function attachAccumulators(lnodes, ledges) {
  const degree = new Map();
  for (const e of ledges.values()) for (const k of [e.source, e.target]) degree.set(k, (degree.get(k) || 0) + 1);
  const out = { tags: [], edges: new Map() };
  for (const e of [...ledges.values()]) {
    const acc = lnodes.get(e.source), leaf = lnodes.get(e.target);
    if (acc?.kind !== "accumulate" || leaf?.type !== "tensor" || degree.get(acc.key) !== 1) continue;
    out.tags.push({ acc, leaf, leafHeight: leaf.height, edge: e });
    leaf.height += acc.height + ATTACH_GAP;
    leaf.width = Math.max(leaf.width, acc.width);
    lnodes.delete(acc.key);
    ledges.delete(e.key);
    out.edges.set(e.key, e);
  }
  return out;
}

function placeAttached(attached, out) {
  for (const { acc, leaf, leafHeight, edge } of attached.tags) {
    const p = out.nodes.get(leaf.key);
    if (!p) continue;
    const top = p.y - p.height / 2;
    p.height = leafHeight;
    p.y = top + leafHeight / 2;
    const ay = top + leafHeight + ATTACH_GAP + acc.height / 2;
    out.nodes.set(acc.key, { x: p.x, y: ay, width: acc.width, height: acc.height, owner: acc.key, chunk: p.chunk, type: acc.type, label: acc.label, lod: acc.lod });
    edge.points = [{ x: p.x, y: ay - acc.height / 2 }, { x: p.x, y: ay - acc.height / 2 - ATTACH_GAP / 2 }, { x: p.x, y: top + leafHeight }];
  }
}

function placeChunks(g, o, collapsed, lnodes, ledges, order, nChunks, chunkSize) {
  const chunkOf = new Map();
  order.forEach((n, i) => chunkOf.set(n.key, Math.min(nChunks - 1, Math.floor(i / chunkSize))));
  const rank = longestPathRanks(order, ledges);
  const useStubs = order.length > o.stubAbove;
  const chunks = Array.from({ length: nChunks }, () => ({ nodes: [], edges: [], stubs: [] }));
  order.forEach((n) => chunks[chunkOf.get(n.key)].nodes.push(n));
  for (const e of ledges.values()) {
    const cs = chunkOf.get(e.source), ct = chunkOf.get(e.target);
    const span = rank.get(e.target) - rank.get(e.source);
    if (cs !== ct || (useStubs && span > o.maxSpan)) {
      const src = lnodes.get(e.source);
      const stub = { key: `stub:${e.key}`, type: "stub", label: src.label ?? src.key, source: e.source, target: e.target, edge: e };
      Object.assign(stub, nodeSize(stub));
      chunks[ct].stubs.push(stub);
    } else chunks[cs].edges.push(e);
  }
  const out = { nodes: new Map(), edges: new Map(), stubs: new Map(), groups: new Map(), width: 0, height: 0, chunks: nChunks };
  const boxes = chunks.map((c, ci) => layoutChunk(g, c, ci, o, collapsed, out));
  packChunks(boxes, o, (ci, dx, dy) => shift(out, chunks[ci], ci, dx, dy), out);
  return { out, chunkOf };
}

function ownerOf(g, collapsed) {
  const cache = new Map();
  return (key) => {
    if (cache.has(key)) return cache.get(key);
    let k = key;
    if (collapsed.size) for (const grp of groupChain(g, key)) if (collapsed.has(grp)) k = grp;
    cache.set(key, k);
    return k;
  };
}

// Iterative (no recursion: big chains overflow the stack) longest-path ranks; sources sit just before their first use.
function longestPathRanks(order, ledges) {
  const out = new Map(), indeg = new Map(), succ = new Map();
  for (const n of order) { indeg.set(n.key, 0); succ.set(n.key, []); out.set(n.key, 0); }
  for (const e of ledges.values()) { indeg.set(e.target, indeg.get(e.target) + 1); succ.get(e.source).push(e.target); }
  const queue = order.filter((n) => indeg.get(n.key) === 0).map((n) => n.key);
  const sources = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    const k = queue[i];
    for (const t of succ.get(k)) {
      out.set(t, Math.max(out.get(t), out.get(k) + 1));
      indeg.set(t, indeg.get(t) - 1);
      if (indeg.get(t) === 0) queue.push(t);
    }
  }
  for (const s of sources) {
    const next = succ.get(s).map((t) => out.get(t));
    if (next.length) out.set(s, Math.min(...next) - 1);
  }
  return out;
}

function layoutChunk(g, c, ci, o, collapsed, out) {
  const grouped = c.nodes.some((n) => n.group); // a closed block at the top needs no cluster (nor compound mode's cost)
  if (o.fast && !grouped) return layeredChunk(c, ci, o, out); // expanded groups need dagre's clusters
  const dg = new dagre.graphlib.Graph({ multigraph: false, compound: grouped }); // compound mode costs time: only when needed
  dg.setGraph({ rankdir: o.rankdir, nodesep: o.nodesep, ranksep: o.ranksep, edgesep: 10, marginx: 16, marginy: 16 });
  dg.setDefaultEdgeLabel(() => ({}));
  for (const n of c.nodes) dg.setNode(n.key, { width: n.width, height: n.height });
  for (const s of c.stubs) dg.setNode(s.key, { width: s.width, height: s.height });
  // Expanded module groups become dagre clusters so their members stay together.
  for (const n of grouped ? c.nodes : []) {
    const chain = (n.type === "group" ? ancestors(g, n.key) : groupChain(g, n.key)).filter((k) => !collapsed.has(k));
    let child = n.key;
    for (const grp of chain) {
      const ck = `${grp}@${ci}`;
      if (!dg.hasNode(ck)) dg.setNode(ck, {});
      if (dg.parent(child) === undefined) dg.setParent(child, ck);
      child = ck;
    }
  }
  for (const e of c.edges) dg.setEdge(e.source, e.target, { weight: 1 });
  for (const s of c.stubs) dg.setEdge(s.key, s.target, { weight: 2, minlen: 1 });
  dagre.layout(dg);
  let w = 0, h = 0;
  const grow = (x, y, ww, hh) => { w = Math.max(w, x + ww / 2 + 16); h = Math.max(h, y + hh / 2 + 16); };
  for (const n of c.nodes) {
    const p = dg.node(n.key);
    out.nodes.set(n.key, { x: p.x, y: p.y, width: n.width, height: n.height, owner: n.key, chunk: ci, type: n.type, label: n.label, lod: n.lod });
    grow(p.x, p.y, n.width, n.height);
  }
  for (const s of c.stubs) {
    const p = dg.node(s.key);
    out.stubs.set(s.key, { x: p.x, y: p.y, width: s.width, height: s.height, label: s.label, source: s.source, target: s.target, chunk: ci });
    s.edge.points = dg.edge(s.key, s.target)?.points ?? [];
    grow(p.x, p.y, s.width, s.height);
  }
  for (const e of c.edges) e.points = dg.edge(e.source, e.target)?.points ?? [];
  return { width: w, height: h };
}

function layeredChunk(c, ci, o, out) {
  const seq = new Map(c.nodes.map((n) => [n.key, n.seq]));
  const items = [...c.nodes, ...c.stubs.map((s) => ({ key: s.key, width: s.width, height: s.height, seq: (seq.get(s.target) ?? 0) - 0.5 }))];
  const edges = [...c.edges, ...c.stubs.map((s) => ({ source: s.key, target: s.target }))];
  const r = layeredLayout(items, edges, { rankdir: o.rankdir, nodesep: o.nodesep, ranksep: o.ranksep, margin: 16 });
  for (const n of c.nodes) {
    const p = r.pos.get(n.key);
    out.nodes.set(n.key, { x: p.x, y: p.y, width: n.width, height: n.height, owner: n.key, chunk: ci, type: n.type, label: n.label, lod: n.lod });
  }
  c.stubs.forEach((s, i) => {
    const p = r.pos.get(s.key);
    out.stubs.set(s.key, { x: p.x, y: p.y, width: s.width, height: s.height, label: s.label, source: s.source, target: s.target, chunk: ci });
    s.edge.points = r.points.get(c.edges.length + i) ?? [];
  });
  c.edges.forEach((e, i) => { e.points = r.points.get(i) ?? []; });
  return { width: r.width, height: r.height };
}

// Shelf-pack the chunks in program order (reading order: along the rank direction, then wrap) into
// a block about `aspect` times wider than tall, whether chunks came out long and flat or tall and thin.
function packChunks(boxes, o, move, out) {
  const gap = o.chunkGap, aspect = o.aspect ?? 1.6;
  const lr = o.rankdir === "LR";
  const area = boxes.reduce((a, b) => a + (b.width + gap) * (b.height + gap), 0);
  const limit = lr ? Math.sqrt(area * aspect) : Math.sqrt(area / aspect); // shelf length along the rank axis
  let along = 0, across = 0, shelf = 0;
  for (const [ci, b] of boxes.entries()) {
    const len = lr ? b.width : b.height, thick = lr ? b.height : b.width;
    if (along > 0 && along + len > limit) { across += shelf + gap; along = 0; shelf = 0; }
    move(ci, lr ? along : across, lr ? across : along);
    along += len + gap;
    shelf = Math.max(shelf, thick);
    out.width = Math.max(out.width, lr ? along - gap : across + thick);
    out.height = Math.max(out.height, lr ? across + thick : along - gap);
  }
}

function ancestors(g, groupKey) {
  const out = [];
  for (let k = g.groups.get(groupKey)?.parent; k; k = g.groups.get(k)?.parent) out.push(k);
  return out;
}

function shift(out, c, ci, dx, dy) {
  if (!dx && !dy) return;
  for (const n of c.nodes) { const p = out.nodes.get(n.key); p.x += dx; p.y += dy; }
  for (const s of c.stubs) { const p = out.stubs.get(s.key); p.x += dx; p.y += dy; }
  for (const e of [...c.edges, ...c.stubs.map((s) => s.edge)]) e.points = (e.points || []).map((p) => ({ x: p.x + dx, y: p.y + dy }));
}

// Boxes around expanded groups, one per chunk the group spans; collapsed groups are their own node.
function groupBoxes(g, out, chunkOf, owner, collapsed) {
  const acc = new Map();
  for (const [key, p] of out.nodes) { // drawn nodes and closed groups alike: an open group boxes both
    if (p.owner !== key) continue;
    let depth = 0;
    for (const grp of p.type === "group" ? ancestors(g, key) : groupChain(g, key)) {
      if (collapsed.has(grp)) continue;
      const k = `${grp}@${p.chunk}`;
      const b = acc.get(k) || { grp, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity, depth: 0 };
      b.x0 = Math.min(b.x0, p.x - p.width / 2); b.x1 = Math.max(b.x1, p.x + p.width / 2);
      b.y0 = Math.min(b.y0, p.y - p.height / 2); b.y1 = Math.max(b.y1, p.y + p.height / 2);
      b.depth = Math.max(b.depth, depth++);
      acc.set(k, b);
    }
  }
  for (const b of acc.values()) {
    const pad = 8 + 6 * b.depth, head = 20 * (b.depth + 1); // nested titles one above the other, never on each other
    const box = { x: b.x0 - pad, y: b.y0 - pad - head, width: b.x1 - b.x0 + 2 * pad, height: b.y1 - b.y0 + 2 * pad + head, collapsed: false };
    if (!out.groups.has(b.grp)) out.groups.set(b.grp, []);
    out.groups.get(b.grp).push(box);
  }
  for (const k of collapsed) {
    const p = out.nodes.get(k);
    if (p) out.groups.set(k, [{ x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height, collapsed: true }]);
  }
}
