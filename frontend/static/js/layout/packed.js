// Big open groups without sub-blocks (the optimizer-state block: hundreds of tensors, few edges among them) are laid
// out on their own and placed as one box: their members linked among themselves in ranks (layout/layered.js), the
// unlinked ones as a grid in program order. dagre's compound layout of such a cluster took seconds (bench/README.md).
import { layeredLayout } from "./layered.js";

const GAP = 14; // between grid cells, and between the grid and the ranked part
const FAN = 4; // a member feeding only nodes with this many inputs from the group or more goes in the grid

/** Replaces the members of every big (≥ `packAbove` boxes) open bookkeeping, loose or edge-heavy group without sub-blocks by one "pack" box. */
export function packGroups(g, o, collapsed, lnodes, ledges) {
  const packs = new Map();
  const parents = new Set([...g.groups.values()].map((grp) => grp.parent));
  const byGroup = new Map();
  for (const n of lnodes.values()) if (n.group) (byGroup.get(n.group) ?? byGroup.set(n.group, []).get(n.group)).push(n);
  for (const [gk, members] of byGroup) {
    if (collapsed.has(gk) || parents.has(gk) || members.length < o.packAbove) continue;
    members.sort((a, b) => (a.seq - b.seq) || (a.key < b.key ? -1 : 1));
    const keys = new Set(members.map((n) => n.key));
    const inner = [], linked = new Set();
    let cross = 0;
    for (const e of ledges.values()) {
      const a = keys.has(e.source), b = keys.has(e.target);
      if (a && b) { inner.push(e); linked.add(e.source).add(e.target); } else if (a || b) cross++;
    }
    // Only what dagre's clusters do badly: the bookkeeping block, mostly unlinked members, or a block edges crowd into.
    if (!g.groups.get(gk)?.book && 2 * linked.size > members.length && cross < 4 * members.length) continue;
    const key = `pack:${gk}`, box = arrange(members, inner, o);
    packs.set(key, { gk, members, inner, box, cross: [] });
    for (const n of members) lnodes.delete(n.key);
    lnodes.set(key, { key, type: "pack", label: g.groups.get(gk)?.label, seq: members[0].seq, group: g.groups.get(gk)?.parent ?? null, width: box.width, height: box.height });
  }
  if (!packs.size) return packs;
  const into = new Map();
  for (const [key, p] of packs) for (const n of p.members) into.set(n.key, key);
  for (const e of [...ledges.values()]) { // edges across a pack's border run to the pack's box while it is placed
    const s = into.get(e.source) ?? e.source, t = into.get(e.target) ?? e.target;
    if (s === e.source && t === e.target) continue;
    ledges.delete(e.key);
    if (s === t) continue; // inner: laid out with the pack
    const k = `${s}>${t}`;
    if (!ledges.has(k)) ledges.set(k, { key: k, source: s, target: t, members: [] });
    packs.get(into.get(e.source) ?? into.get(e.target)).cross.push({ e, via: k, inS: into.has(e.source), inT: into.has(e.target) });
  }
  return packs;
}

// Members that feed only wide fan-ins (29 per-parameter norms into one stack) or nothing in the group go in a grid in
// program order, under (LR) or beside (TB) the rest, which is laid out in ranks. Edges keyed by ledge key.
function arrange(members, inner, o) {
  const fanIn = new Map(), fed = new Set();
  for (const e of inner) { fanIn.set(e.target, (fanIn.get(e.target) || 0) + 1); fed.add(e.target); }
  const gridded = (n) => !fed.has(n.key) && inner.every((e) => e.source !== n.key || fanIn.get(e.target) >= FAN);
  const loose = members.filter(gridded), grid = new Set(loose.map((n) => n.key));
  const ranked = members.filter((n) => !grid.has(n.key)), rEdges = inner.filter((e) => !grid.has(e.source));
  const r = ranked.length ? layeredLayout(ranked, rEdges, { rankdir: o.rankdir, nodesep: o.nodesep, ranksep: o.ranksep, margin: 0 })
    : { pos: new Map(), points: new Map(), width: 0, height: 0 };
  const cw = Math.max(1, ...loose.map((n) => n.width)) + GAP, ch = Math.max(1, ...loose.map((n) => n.height)) + GAP;
  const cols = Math.max(1, Math.round(Math.sqrt(loose.length * 1.6 * ch / cw))); // a grid about 1.6 times wider than tall
  const rows = Math.ceil(loose.length / cols);
  const lr = o.rankdir !== "TB";
  const gx = lr ? 0 : (r.width ? r.width + GAP : 0), gy = lr ? (r.height ? r.height + GAP : 0) : 0;
  const pos = new Map(r.pos);
  loose.forEach((n, i) => pos.set(n.key, { x: gx + (i % cols) * cw + cw / 2 - GAP / 2, y: gy + Math.floor(i / cols) * ch + ch / 2 - GAP / 2 }));
  const points = new Map(rEdges.map((e, i) => [e.key, r.points.get(i) ?? []]));
  for (const e of inner) if (grid.has(e.source)) points.set(e.key, [pos.get(e.source), pos.get(e.target)].map((q) => ({ x: q.x, y: q.y })));
  const gw = loose.length ? cols * cw - GAP : 0, gh = loose.length ? rows * ch - GAP : 0;
  return { pos, points, width: Math.max(1, lr ? Math.max(r.width, gw) : gx + gw), height: Math.max(1, lr ? gy + gh : Math.max(r.height, gh)) };
}

/** Puts each pack's members where its box was placed; their edges follow (border edges end at the member). */
export function unpackGroups(packs, out, ledges) {
  for (const [key, p] of packs) {
    const at = out.nodes.get(key);
    out.nodes.delete(key);
    if (!at) continue;
    const x0 = at.x - at.width / 2, y0 = at.y - at.height / 2;
    for (const n of p.members) {
      const q = p.box.pos.get(n.key);
      out.nodes.set(n.key, { x: x0 + q.x, y: y0 + q.y, width: n.width, height: n.height, owner: n.key, chunk: at.chunk, type: n.type, label: n.label, lod: n.lod });
    }
    p.inner.forEach((e) => {
      e.points = (p.box.points.get(e.key) ?? []).map((q) => ({ x: x0 + q.x, y: y0 + q.y }));
      ledges.set(e.key, e);
    });
  }
  for (const p of packs.values()) {
    for (const { e, via, inS, inT } of p.cross) {
      const v = ledges.get(via), s = out.nodes.get(e.source), t = out.nodes.get(e.target);
      e.stubKey = out.stubs.has(`stub:${via}`) ? `stub:${via}` : null;
      const pts = v?.points?.length ? [...v.points] : [s, t].filter(Boolean).map((q) => ({ x: q.x, y: q.y }));
      if (inT && t) pts[pts.length - 1] = { x: t.x, y: t.y }; // into the member, not the pack's border
      if (inS && s && !e.stubKey) pts[0] = { x: s.x, y: s.y };
      e.points = pts;
      ledges.set(e.key, e);
    }
  }
}
