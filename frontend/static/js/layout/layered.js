// A fast layered (Sugiyama-style) layout for big graphs, in place of dagre's network-simplex ranking and
// Brandes–Köpf placement: longest-path ranks, dummy nodes on long edges, barycentric ordering sweeps, then
// positions pulled toward their neighbours with the order kept. Linear-ish in nodes + edges.

const SWEEPS = 4; // barycenter passes (down and up each); more barely changes crossings on traced graphs
const ALIGN = 4; // coordinate passes pulling nodes toward their neighbours
const DUMMY = 6; // across-size of a dummy node (the room an edge takes through a rank)

/**
 * Lay out `nodes` ([{key, width, height, seq}]) and `edges` ([{source, target}]) in ranks.
 * Returns {pos: Map key→{x, y}, points: Map edgeIndex→[{x, y}], width, height} (centres; margin included).
 */
export function layeredLayout(nodes, edges, { rankdir = "LR", nodesep = 18, ranksep = 30, margin = 16 } = {}) {
  const lr = rankdir === "LR";
  const along = (n) => (lr ? n.width : n.height), across = (n) => (lr ? n.height : n.width);
  const idx = new Map(nodes.map((n, i) => [n.key, i]));
  const N = nodes.length;
  const es = edges.map((e, i) => ({ s: idx.get(e.source), t: idx.get(e.target), i })).filter((e) => e.s !== undefined && e.t !== undefined && e.s !== e.t);
  const rank = ranks(N, es, nodes);

  // Virtual graph: real nodes, then a dummy per rank an edge crosses.
  const vAcross = nodes.map(across), vAlong = nodes.map(along), vRank = [...rank];
  const chains = []; // per edge: virtual node ids from source to target
  const succ = Array.from({ length: N }, () => []), pred = Array.from({ length: N }, () => []);
  const link = (a, b) => { succ[a].push(b); pred[b].push(a); };
  for (const e of es) {
    const [s, t] = rank[e.s] <= rank[e.t] ? [e.s, e.t] : [e.t, e.s];
    const chain = [s];
    for (let r = rank[s] + 1; r < rank[t]; r++) {
      const d = vRank.length;
      vRank.push(r); vAcross.push(DUMMY); vAlong.push(0); succ.push([]); pred.push([]);
      link(chain[chain.length - 1], d);
      chain.push(d);
    }
    if (rank[s] !== rank[t]) link(chain[chain.length - 1], t);
    chain.push(t);
    chains.push({ e, chain: rank[e.s] <= rank[e.t] ? chain : chain.reverse() });
  }
  const V = vRank.length;
  const maxRank = Math.max(0, ...rank);
  const layers = Array.from({ length: maxRank + 1 }, () => []);
  // Initial order: program order for real nodes, dummies after their chain's source.
  const key = new Float64Array(V);
  for (let v = 0; v < N; v++) key[v] = Number.isFinite(nodes[v].seq) ? nodes[v].seq : 1e9 + v;
  for (const { chain } of chains) for (let j = 1; j < chain.length - 1; j++) key[chain[j]] = key[chain[0]] + 0.5;
  for (let v = 0; v < V; v++) layers[vRank[v]].push(v);
  for (const l of layers) l.sort((a, b) => key[a] - key[b] || a - b);
  const order = new Float64Array(V);
  const renumber = (l) => l.forEach((v, i) => { order[v] = i; });
  layers.forEach(renumber);

  // Barycentric sweeps: sort each layer by the mean order of its neighbours in the layer just fixed.
  const bary = new Float64Array(V);
  for (let it = 0; it < SWEEPS; it++) {
    const down = it % 2 === 0;
    const seq = down ? layers.keys() : [...layers.keys()].reverse();
    for (const r of seq) {
      const l = layers[r];
      for (const v of l) {
        const nb = down ? pred[v] : succ[v];
        if (!nb.length) { bary[v] = order[v]; continue; }
        let sum = 0;
        for (const u of nb) sum += order[u];
        bary[v] = sum / nb.length;
      }
      l.sort((a, b) => bary[a] - bary[b] || order[a] - order[b]);
      renumber(l);
    }
  }

  // Along the ranks: each rank as wide as its widest node.
  const rankSize = new Float64Array(maxRank + 1);
  for (let v = 0; v < V; v++) rankSize[vRank[v]] = Math.max(rankSize[vRank[v]], vAlong[v]);
  const rankPos = new Float64Array(maxRank + 1);
  for (let r = 0, p = margin; r <= maxRank; r++) { rankPos[r] = p + rankSize[r] / 2; p += rankSize[r] + ranksep; }

  // Across: stack each layer, then pull nodes toward their neighbours' mean while keeping order and spacing.
  const pos = new Float64Array(V);
  for (const l of layers) {
    let p = 0;
    for (const v of l) { pos[v] = p + vAcross[v] / 2; p += vAcross[v] + nodesep; }
  }
  const gap = (a, b) => (vAcross[a] + vAcross[b]) / 2 + (a >= N && b >= N ? 4 : nodesep);
  for (let it = 0; it < ALIGN; it++) {
    const down = it % 2 === 0;
    const seq = down ? [...layers.keys()] : [...layers.keys()].reverse();
    for (const r of seq) {
      const l = layers[r];
      const want = l.map((v) => {
        const nb = [...pred[v], ...succ[v]];
        if (!nb.length) return pos[v];
        let sum = 0;
        for (const u of nb) sum += pos[u];
        return sum / nb.length;
      });
      // forward pass pushes down past overlaps, backward pass pulls up toward the wish; then average
      const a = new Float64Array(l.length), b = new Float64Array(l.length);
      for (let i = 0; i < l.length; i++) a[i] = i ? Math.max(want[i], a[i - 1] + gap(l[i - 1], l[i])) : want[i];
      for (let i = l.length - 1; i >= 0; i--) b[i] = i < l.length - 1 ? Math.min(want[i], b[i + 1] - gap(l[i], l[i + 1])) : want[i];
      for (let i = 0; i < l.length; i++) pos[l[i]] = (a[i] + b[i]) / 2;
      for (let i = 1; i < l.length; i++) pos[l[i]] = Math.max(pos[l[i]], pos[l[i - 1]] + gap(l[i - 1], l[i]));
    }
  }
  let lo = Infinity;
  for (let v = 0; v < V; v++) lo = Math.min(lo, pos[v] - vAcross[v] / 2);
  const shift = margin - (Number.isFinite(lo) ? lo : 0);
  let hi = 0;
  for (let v = 0; v < V; v++) { pos[v] += shift; hi = Math.max(hi, pos[v] + vAcross[v] / 2); }
  const xy = (v) => (lr ? { x: rankPos[vRank[v]], y: pos[v] } : { x: pos[v], y: rankPos[vRank[v]] });

  const out = new Map();
  nodes.forEach((n, v) => out.set(n.key, xy(v)));
  const points = new Map();
  for (const { e, chain } of chains) {
    const s = chain[0], t = chain[chain.length - 1];
    const off = (v, sign) => { const p = xy(v); return lr ? { x: p.x + (sign * vAlong[v]) / 2, y: p.y } : { x: p.x, y: p.y + (sign * vAlong[v]) / 2 }; };
    const fwd = vRank[s] <= vRank[t];
    const pts = [off(s, fwd ? 1 : -1), ...chain.slice(1, -1).map(xy), off(t, fwd ? -1 : 1)];
    points.set(e.i, pts);
  }
  const extentAlong = maxRank >= 0 ? rankPos[maxRank] + rankSize[maxRank] / 2 + margin : 2 * margin;
  return { pos: out, points, width: lr ? extentAlong : hi + margin, height: lr ? hi + margin : extentAlong };
}

// Longest-path ranks (Kahn's order; cycles broken in program order); sources sit just before their first use.
function ranks(N, es, nodes) {
  const rank = new Int32Array(N), indeg = new Int32Array(N);
  const out = Array.from({ length: N }, () => []);
  for (const e of es) { out[e.s].push(e.t); indeg[e.t]++; }
  const source = indeg.map((d) => (d === 0 ? 1 : 0));
  const queue = [], queued = new Uint8Array(N);
  for (let v = 0; v < N; v++) if (!indeg[v]) { queue.push(v); queued[v] = 1; }
  const byOrder = [...Array(N).keys()].sort((a, b) => (nodes[a].seq ?? 0) - (nodes[b].seq ?? 0) || a - b);
  let next = 0;
  for (let qi = 0; qi < N; qi++) {
    if (qi >= queue.length) { // a cycle: take the earliest node not yet placed
      while (queued[byOrder[next]]) next++;
      queue.push(byOrder[next]); queued[byOrder[next]] = 1;
    }
    const v = queue[qi];
    for (const t of out[v]) {
      if (queued[t]) continue;
      rank[t] = Math.max(rank[t], rank[v] + 1);
      if (--indeg[t] === 0) { queue.push(t); queued[t] = 1; }
    }
  }
  for (let v = 0; v < N; v++) {
    if (!source[v] || !out[v].length) continue;
    let m = Infinity;
    for (const t of out[v]) m = Math.min(m, rank[t]);
    if (m - 1 > rank[v]) rank[v] = m - 1;
  }
  return rank;
}
