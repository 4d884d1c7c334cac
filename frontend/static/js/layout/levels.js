// Levels of the module overview: level d shows every nn.Module group d deep or deeper as one closed block
// (level 0: the outermost modules), call groups and folded repeats closed at every level. The first frame takes
// the deepest level whose box labels fit, at 12 px on screen, in the fitted view.
import { groupDepth } from "../model/modules.js";

const isModule = (grp) => !grp.iteration && !grp.call && !grp.fold && !grp.book;

/** The deepest level that still closes something (-1: no module groups). */
export function maxLevel(g) {
  let m = -1;
  for (const [k, grp] of g.groups) if (isModule(grp)) m = Math.max(m, groupDepth(g, k));
  return m;
}

/** The groups closed at `level`; iteration boxes keep their state in `prev`. */
export function collapsedAt(g, level, prev = new Set()) {
  const out = new Set();
  for (const [k, grp] of g.groups) {
    if (grp.iteration ? prev.has(k) : grp.call || grp.fold || grp.book || groupDepth(g, k) >= level) out.add(k);
  }
  return out;
}

/** Call groups and folded repeats only (a program without modules, or "everything open"). */
export const closedByDefault = (g, prev = new Set()) => collapsedAt(g, Infinity, prev);

/** Share of the laid-out boxes whose one label fits at scale k (layout nodes carry `lod`, the scale it needs). */
export function readableShare(layout, k) {
  let n = 0, ok = 0;
  for (const [key, p] of layout.nodes) {
    if (p.owner !== key || p.lod === undefined) continue;
    n++;
    if (p.lod <= k) ok++;
  }
  return n ? ok / n : 1;
}

export const READABLE = 0.85; // a level is readable when this share of its boxes show their label

const FILL = 0.3; // a layered layout covers at most about this share of its bounding box with boxes (measured 0.11–0.29)

/** An optimistic fitted scale for `boxes` (layoutBoxes) in a w×h pane, before any layout is made. */
export function estimateScale(boxes, w, h) {
  let area = 0;
  for (const b of boxes.values()) if (b.kind !== "accumulate") area += (b.width + 30) * (b.height + 40);
  return Math.min(1.4, Math.sqrt((w * h * FILL) / Math.max(1, area)));
}

/**
 * The overview's level: the deepest level whose box labels fit at the fitted scale. `boxesAt(level)` → layoutBoxes,
 * `layoutAt(level)` → (a promise of) the layout, `fitScale(layout)` → its fitted scale. Only the candidate (and, if it
 * proves unreadable, level 0) are laid out: deeper levels are ruled out by the estimate alone.
 * Resolves to {level, layout}.
 */
export async function chooseLevel(g, { boxesAt, layoutAt, fitScale, w, h }) {
  const top = maxLevel(g);
  let level = 0;
  for (let d = 1; d <= top + 1; d++) {
    const boxes = boxesAt(d), k = estimateScale(boxes, w, h);
    let n = 0, ok = 0;
    for (const b of boxes.values()) { n++; if (b.lod <= k) ok++; }
    if (!n || ok / n < READABLE) break;
    level = d;
  }
  const layout = await layoutAt(level); // the candidate, else the outermost level: two layouts at most
  if (level === 0 || readableShare(layout, fitScale(layout)) >= READABLE) return { level, layout };
  return { level: 0, layout: await layoutAt(0) };
}
