// The drawn graph as a self-contained SVG document: the page's CSS (classes, variables, themes) is
// resolved into plain presentation attributes, so any viewer (Inkscape, slides, browsers) shows it alike.

const SVG_NS = "http://www.w3.org/2000/svg";
// Inherited properties are written only where they differ from the parent (the clone inherits the rest).
const INHERITED = ["fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity",
  "stroke-linecap", "stroke-linejoin", "font-family", "font-size", "font-weight", "font-style", "text-anchor", "visibility"];
const INITIAL = { fill: "rgb(0, 0, 0)", "fill-opacity": "1", stroke: "none", "stroke-width": "1px", "stroke-dasharray": "none",
  "stroke-opacity": "1", "stroke-linecap": "butt", "stroke-linejoin": "miter", "font-style": "normal", "text-anchor": "start", visibility: "visible" };
const PAD = 16;

/**
 * Serialize `svgEl` (a live graph SVG, in the document so styles resolve) as a standalone SVG string.
 * `box` = {width, height} of the layout; `background` a CSS colour or null; `title` a short text.
 */
export function exportSvg(svgEl, { width, height, title = "", background = null } = {}) {
  const lodLow = svgEl.classList.contains("lod-low"), lodNames = svgEl.classList.contains("lod-names");
  svgEl.classList.remove("lod-low", "lod-names"); // zoomed-out graphs hide their text (or show names only); an export shows it all
  try {
    const clone = svgEl.cloneNode(true);
    inline(svgEl, clone, null);
    clone.querySelector(".pulses")?.replaceChildren(); // a half-played animation is no part of a picture
    clone.querySelector(".viewport")?.removeAttribute("transform");
    const W = Math.ceil(width + 2 * PAD), H = Math.ceil(height + 2 * PAD);
    clone.setAttribute("xmlns", SVG_NS);
    clone.setAttribute("viewBox", `${-PAD} ${-PAD} ${W} ${H}`);
    clone.setAttribute("width", String(W));
    clone.setAttribute("height", String(H));
    clone.setAttribute("role", "img");
    for (const a of ["class", "style"]) clone.removeAttribute(a);
    const doc = svgEl.ownerDocument;
    if (background) {
      const bg = doc.createElementNS(SVG_NS, "rect");
      for (const [k, v] of Object.entries({ x: -PAD, y: -PAD, width: W, height: H, fill: background })) bg.setAttribute(k, String(v));
      clone.insertBefore(bg, clone.firstChild);
    }
    if (title) {
      const t = doc.createElementNS(SVG_NS, "title");
      t.textContent = title;
      clone.insertBefore(t, clone.firstChild);
    }
    return new XMLSerializer().serializeToString(clone);
  } finally {
    if (lodLow) svgEl.classList.add("lod-low");
    if (lodNames) svgEl.classList.add("lod-names");
  }
}

// Walk the original and the clone together, writing each element's computed style as attributes.
function inline(src, dst, parentStyle) {
  const cs = src.ownerDocument.defaultView.getComputedStyle(src);
  const mine = {};
  for (const p of INHERITED) {
    const v = cs.getPropertyValue(p);
    mine[p] = v;
    const inherited = parentStyle ? parentStyle[p] : INITIAL[p];
    if (v && v !== inherited) dst.setAttribute(p, v);
  }
  for (const p of ["fill", "stroke"]) splitAlpha(dst, p, mine);
  const opacity = cs.getPropertyValue("opacity");
  if (opacity && opacity !== "1") dst.setAttribute("opacity", opacity);
  if (cs.getPropertyValue("display") === "none") dst.setAttribute("display", "none");
  dst.removeAttribute("style");
  const a = src.children, b = dst.children;
  for (let i = 0; i < a.length; i++) inline(a[i], b[i], mine);
}

// rgba() is not SVG 1.1: write rgb() plus the matching *-opacity (which children then see as inherited).
function splitAlpha(el, prop, mine) {
  const m = /^rgba\((\d+),\s*(\d+),\s*(\d+),\s*([\d.]+)\)$/.exec(el.getAttribute(prop) || "");
  if (!m) return;
  const alpha = String(Number(m[4]) * Number(mine[`${prop}-opacity`] || 1));
  el.setAttribute(prop, `rgb(${m[1]}, ${m[2]}, ${m[3]})`);
  el.setAttribute(`${prop}-opacity`, alpha);
  mine[`${prop}-opacity`] = alpha;
}
