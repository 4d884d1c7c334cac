// What graph-view.js draws, one object per thing: its data and its element, made on first use; state class names.

/** A drawn thing (node, edge, stub, group box): its data, and its element, made on first use by `create(item)`. */
export class Item {
  constructor(fields, create, parent, shown) {
    Object.assign(this, fields);
    this.create = create;
    this.parent = parent;
    this.shown = shown;
    this._el = null;
  }

  get el() { return this._el ?? (this._el = this.create(this)); }

  get made() { return this._el !== null; }
}

export const NODE_STATES = ["future", "active", "touched", "ran", "pending", "selected"];
export const EDGE_STATES = ["future", "flowed", "sending", "feeding"];
export const stateClasses = (flags, names) => names.map((c, i) => (flags & (1 << i) ? ` ${c}` : "")).join("");

export function memberKeys(g, gk) {
  const out = [...(g.groups.get(gk)?.members || [])];
  for (const [k, grp] of g.groups) if (grp.parent === gk) out.push(...memberKeys(g, k));
  return out;
}

/** The node (else stub) key nearest graph point [x, y] within 4 px at scale k; null for empty space. */
export function nearest(nodes, stubs, [x, y], k) {
  const gap = (it) => Math.hypot(Math.max(it.box[0] - x, 0, x - it.box[2]), Math.max(it.box[1] - y, 0, y - it.box[3]));
  let best = null, bestGap = 4 / k;
  for (const it of nodes) if (!it.folded && gap(it) <= bestGap) { best = it.d.key; bestGap = gap(it); }
  if (best) return best;
  const stub = stubs.find((it) => gap(it) <= bestGap);
  return stub ? stub.s.source : null;
}
