// Semantic zoom for the drawn graph: at a scale where the boxes' own text would be under 11 px on screen, each box
// shows one label (its name, a block's title) at a fixed 12 px on screen: whole where it fits, else cut with "…" to
// what fits (at least a few characters), else none. No label is ever drawn smaller than 11 px or past its box.
import { LOD_PX, lodChars, elide } from "../layout/sizes.js";

export const FULL_SCALE = 1.1; // the smallest text in a box is 10 px: full text from 11 px on screen up

/** `svg` a d3 selection; `items()` → drawn things with {lab: {text, w, h, floor} (the label and its box), made, el}. */
export function createSemanticZoom(svg) {
  let names = null, k = 0;
  return {
    /** Apply scale `scale` to everything in `items`: a label's text is rewritten only when its length changes. */
    apply(scale, items) {
      const nowNames = scale < FULL_SCALE;
      if (nowNames !== names) { names = nowNames; svg.classed("lod-names", names); }
      if (names && Math.abs(scale - k) > 1e-4) svg.node().style.setProperty("--lod-fs", `${(LOD_PX / scale).toFixed(3)}px`);
      k = scale;
      if (!names) return; // full text: the labels are hidden, and their lengths are brought up to date on the way back
      for (const it of items()) {
        if (!it.made || !it.lab) continue;
        const { text, w, h, floor } = it.lab;
        const n = lodChars(text, w, h, scale, floor);
        if (n === it.chars) continue;
        if ((n > 0) !== (it.chars > 0)) it.el.classed("fits", n > 0);
        if (n > 0) (it.lodEl ??= it.el.select(".lodname")).text(elide(text, n));
        it.chars = n;
      }
    },
    get names() { return !!names; },
  };
}
