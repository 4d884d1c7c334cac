// Semantic zoom for the drawn graph: at a scale where the boxes' own text would be under 11 px on screen, each box
// shows one label (its name, a block's title) at a fixed 12 px on screen, and only where that label fits inside its
// box; at a readable scale the full text comes back. No label is ever drawn smaller than 11 px.
import { LOD_PX } from "../layout/sizes.js";

export const FULL_SCALE = 1.1; // the smallest text in a box is 10 px: full text from 11 px on screen up

/** `svg` a d3 selection; `items()` → drawn things with {lod (scale from which its label fits), made, el}. */
export function createSemanticZoom(svg) {
  let names = null, k = 0;
  return {
    /** Apply scale `scale` to everything in `items` (cheap when nothing crosses a threshold). */
    apply(scale, items) {
      const nowNames = scale < FULL_SCALE;
      if (nowNames !== names) { names = nowNames; svg.classed("lod-names", names); }
      if (names && Math.abs(scale - k) > 1e-4) svg.node().style.setProperty("--lod-fs", `${(LOD_PX / scale).toFixed(3)}px`);
      k = scale;
      for (const it of items()) {
        if (!it.made || it.lod === undefined) continue;
        const fits = scale >= it.lod;
        if (fits !== it.fits) { it.fits = fits; it.el.classed("fits", fits); }
      }
    },
    get names() { return !!names; },
  };
}
