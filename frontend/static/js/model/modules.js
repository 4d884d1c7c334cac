// Groups of the drawable graph: nn.Module calls (with the module tree of Trace.modules: class, parameter count,
// output shape), the parameters a module holds, one Python call that made several autograd nodes (a "call" group,
// e.g. scaled_dot_product_attention), and runs of repeated sibling blocks (model.h.1 … h.11 folded as "Block ×11").
const N = (id) => `n:${id}`;
const T = (id) => `t:${id}`;

/** Module groups, one per call instance: consecutive forward steps sharing a module path form one instance. */
export function buildModuleGroups(g, trace, skip = () => false) {
  const forward = trace.forward || [];
  const tree = new Map((trace.modules || []).map((m) => [m.path, m]));
  const chain = (path) => { // outermost first
    if (tree.size && tree.has(path)) {
      const out = [];
      for (let p = path; p && out.length < 64; p = tree.get(p)?.parent ?? null) out.unshift(p);
      return out;
    }
    const parts = String(path).split(".").filter(Boolean);
    return parts.map((_, j) => parts.slice(0, j + 1).join("."));
  };
  let open = [];
  let counter = 0;
  forward.forEach((s, i) => {
    if (skip(i)) return;
    const prefixes = s.module ? chain(s.module) : [];
    let j = 0;
    while (j < open.length && j < prefixes.length && open[j].path === prefixes[j]) j++;
    open = open.slice(0, j);
    for (; j < prefixes.length; j++) {
      const key = `g:${counter++}`;
      const path = prefixes[j], parent = open.length ? open[open.length - 1] : null;
      const label = parent && path.startsWith(`${parent.path}.`) ? path.slice(parent.path.length + 1) : path;
      const m = tree.get(path);
      const grp = { key, path, label, parent: parent?.key ?? null, members: [], depth: j, seq: i,
        module: m ? { cls: m.class, params: m.params, shape: m.shape } : null };
      g.groups.set(key, grp);
      open.push(grp);
    }
    if (!open.length) return;
    for (const grp of open) grp.last = i; // the last step run inside each open module call
    const inner = open[open.length - 1];
    const claim = (key) => {
      const d = g.nodes.get(key);
      if (d && d.group === null) { d.group = inner.key; inner.members.push(key); }
    };
    if (s.node != null) claim(N(s.node));
    (s.outputs || []).forEach((o) => claim(T(o)));
  });
  for (const d of g.nodes.values()) { // hidden nodes: with the step whose call made them (following the hand-offs)
    if (d.group !== null || !d.inheritFrom) continue;
    let owner = g.nodes.get(d.inheritFrom);
    for (let guard = 0; owner && owner.group === null && owner.inheritFrom && guard < 1000; guard++) owner = g.nodes.get(owner.inheritFrom);
    if (owner?.group) { d.group = owner.group; g.groups.get(owner.group).members.push(d.key); }
  }
  adoptParameters(g, forward, skip);
  adoptOrphans(g);
}

// Hidden nodes no step made (an RNN's stacked initial states): in the group of every node they hand gradients to.
// A hidden node a call made outside every module (cross_entropy's LogSoftmaxBackward0) stays outside with its call.
function adoptOrphans(g) {
  for (const d of g.nodes.values()) {
    if (d.type !== "op" || !d.hidden || d.group !== null || d.inheritFrom) continue;
    const to = new Set((d.node?.next || []).map(([m]) => (m == null ? undefined : g.nodes.get(N(m))?.group)).filter((x) => x !== undefined));
    if (to.size === 1 && [...to][0]) move(g, d, [...to][0]);
  }
}

/** Shown on request, the training bookkeeping's tensors form one block of their own (closed by default). */
export function addBookkeepingGroup(g, found) {
  const keys = [...found.tensors].map(T).filter((k) => g.nodes.get(k)?.group === null);
  if (!keys.length) return;
  const seq = Math.min(...keys.map((k) => g.nodes.get(k).seq));
  g.groups.set("g:book", { key: "g:book", path: "optimizer state, clipping", label: "optimizer state, clipping", parent: null, members: [],
    depth: 0, seq, book: { tensors: keys.length } });
  for (const k of keys) move(g, g.nodes.get(k), "g:book");
}

/** What a collapsed group's box says: {title, sub}. */
export function groupText(grp) {
  const m = grp.module;
  if (grp.fold) return { title: `${grp.fold.cls} ×${grp.fold.count}`, sub: `${grp.path} · same as ${grp.fold.shownLabel ?? "the first"}` };
  if (grp.call) return { title: grp.label, sub: `one call · ${grp.call.nodes} autograd nodes` };
  if (grp.book) return { title: "Optimizer state, clipping", sub: `${grp.book.tensors} tensors (training bookkeeping)` };
  if (m) return { title: `${grp.label} · ${m.cls}`, sub: `${fmtCount(m.params)} params${m.shape ? ` → [${m.shape.join(", ")}]` : ""}` };
  return { title: grp.label, sub: `${grp.members.length} nodes` };
}

const fmtCount = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n ?? 0));

const move = (g, d, to) => {
  if (d.group) { const m = g.groups.get(d.group).members; m.splice(m.indexOf(d.key), 1); }
  d.group = to;
  if (to) g.groups.get(to).members.push(d.key);
};

// A leaf (a parameter) sits in the innermost group around every step that reads it, with its AccumulateGrad tag.
function adoptParameters(g, forward, skip) {
  if (!g.groups.size) return;
  const readers = new Map();
  forward.forEach((s, i) => {
    if (skip(i)) return;
    const d = g.nodes.get(s.node != null ? N(s.node) : T((s.outputs || [])[0]));
    for (const t of s.inputs || []) {
      if (!readers.has(t)) readers.set(t, []);
      readers.get(t).push(d?.group ?? null);
    }
  });
  const ancestors = (k) => { const out = []; for (; k; k = g.groups.get(k)?.parent) out.push(k); return out; };
  const common = (keys) => {
    if (keys.some((k) => !k)) return null;
    let shared = ancestors(keys[0]);
    for (const k of keys.slice(1)) { const a = new Set(ancestors(k)); shared = shared.filter((x) => a.has(x)); }
    return shared[0] ?? null;
  };
  const accOf = new Map();
  for (const d of g.nodes.values()) if (d.kind === "accumulate" && d.node?.tensor) accOf.set(d.node.tensor, d);
  for (const d of g.nodes.values()) {
    if (d.type !== "tensor" || d.kind !== "leaf" || d.group !== null || !readers.has(d.id)) continue;
    const rs = readers.get(d.id);
    // a module called several times (a GAN's D): its parameters sit in its first call's box
    const grp = common(rs) ?? (rs[0] && rs.every((k) => g.groups.get(k)?.path === g.groups.get(rs[0]).path) ? rs[0] : null);
    if (!grp) continue;
    move(g, d, grp);
    const acc = accOf.get(d.id);
    if (acc && acc.group === null) move(g, acc, grp);
  }
}

/** One forward step whose single call made several autograd nodes: a group named by the call (closed by default). */
export function addCallGroups(g, trace, skip = () => false) {
  const forward = trace.forward || [];
  const made = new Map(); // visible node key → hidden node keys it handed gradients to
  for (const d of g.nodes.values()) {
    if (!d.hidden || !d.inheritFrom) continue;
    let root = d.inheritFrom, guard = 0;
    while (g.nodes.get(root)?.hidden && g.nodes.get(root)?.inheritFrom && guard++ < 1000) root = g.nodes.get(root).inheritFrom;
    if (!made.has(root)) made.set(root, []);
    made.get(root).push(d.key);
  }
  const stepsIn = new Map(); // module group → steps with a node in it
  forward.forEach((s, i) => { const grp = s.node != null ? g.nodes.get(N(s.node))?.group : null; if (grp && !skip(i)) stepsIn.set(grp, (stepsIn.get(grp) || 0) + 1); });
  forward.forEach((s, i) => {
    if (skip(i) || s.node == null) return;
    const key = N(s.node), d = g.nodes.get(key), hidden = made.get(key);
    if (!d || !hidden?.length) return;
    const parent = d.group;
    if (parent && stepsIn.get(parent) === 1 && !g.groups.get(parent).call) return; // the module's box already is this call
    const gk = `g:call:${i}`;
    const depth = parent ? (g.groups.get(parent).depth ?? 0) + 1 : 0;
    g.groups.set(gk, { key: gk, path: `${s.op}()`, label: `${s.op}()`, parent, members: [], depth, seq: i, call: { op: s.op, nodes: hidden.length + 1 } });
    for (const k of [key, ...hidden]) { const n = g.nodes.get(k); if (n && n.group === parent) move(g, n, gk); }
  });
}

/**
 * Runs of 2+ sibling module groups of one class in a row (model.h.0, model.h.1, …): all but the first
 * go into a "fold" group labelled "Block ×n", closed by default (the first stays, opened like any block).
 */
export function foldRepeats(g) {
  const kids = new Map();
  for (const grp of g.groups.values()) {
    if (!grp.module || grp.call || grp.iteration) continue;
    const p = grp.parent ?? "";
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(grp);
  }
  for (const [p, list] of kids) {
    list.sort((a, b) => a.seq - b.seq);
    for (let i = 0; i < list.length;) {
      let j = i + 1;
      while (j < list.length && list[j].module.cls === list[i].module.cls && stem(list[j].path) === stem(list[i].path) && stem(list[i].path) !== null) j++;
      if (j - i >= 2) {
        const rest = list.slice(i + 1, j), first = list[i];
        const gk = `g:fold:${first.key}`;
        const last = rest[rest.length - 1];
        const range = rest.length > 1 ? `${rest[0].label}–${last.label}` : rest[0].label;
        g.groups.set(gk, { key: gk, path: range, label: `${first.module.cls} ×${rest.length}`,
          parent: p || null, members: [], depth: first.depth, seq: rest[0].seq, fold: { cls: first.module.cls, count: rest.length, of: rest.map((x) => x.key), shown: first.key, shownLabel: first.label },
          module: { cls: first.module.cls, params: rest.reduce((a, x) => a + (x.module.params || 0), 0), shape: last.module.shape } });
        for (const grp of rest) grp.parent = gk;
      }
      i = j;
    }
  }
}

// "model.h.3" → "model.h": numbered items of one container; null when the last part is not a number.
const stem = (path) => (/\.\d+$/.test(path) ? path.replace(/\.\d+$/, "") : null);

/** Depth of a group: how many module/fold groups are around it (fold groups add none: their blocks sit at its depth). */
export function groupDepth(g, key) {
  let d = 0;
  for (let k = g.groups.get(key)?.parent; k; k = g.groups.get(k)?.parent) if (!g.groups.get(k).fold) d++;
  return d;
}
