// The graph's camera: d3 zoom on the svg, the visible rectangle, fitting a layout and centring a box.
import * as d3 from "../../vendor/d3.js";

export const TOP = 50; // room for the toolbar over the graph

/**
 * `dims()` → the pane's {w, h}; `onZoom(transform)` runs on every zoom tick (before the frame renders).
 * Returns {transform, visibleRect, fit, fitScale, centre, zoomBy, restore}.
 */
// `onUserZoom(transform)`: a zoom gesture of the user's (wheel, pinch, drag) just ended.
export function createCamera(svg, viewport, dims, onZoom, onUserZoom = () => {}) {
  let transform = d3.zoomIdentity;
  // Plain interpolation: following a step pans at a constant scale. (The default "smooth zoom" zooms out
  // mid-flight, and every scale change makes Chromium re-lay out all SVG text.)
  const zoom = d3.zoom().scaleExtent([0.02, 4]).interpolate(d3.interpolate).on("zoom", (ev) => {
    transform = ev.transform;
    viewport.attr("transform", transform);
    onZoom(transform);
  }).on("end", (ev) => { if (ev.sourceEvent) onUserZoom(transform); });
  zoom.extent(() => { const { w, h } = dims(); return [[0, 0], [w, h]]; }); // the svg fills the pane; asking the svg forces a layout
  svg.call(zoom).on("dblclick.zoom", null);

  function visibleRect() {
    const { w, h } = dims();
    const [x0, y0] = transform.invert([0, 0]);
    const [x1, y1] = transform.invert([w, h]);
    return { x0, y0, x1, y1 };
  }

  /** Whether box p ({x, y, width, height}, centred) lies in view with a margin, not under the toolbar. */
  function shows(p) {
    const r = visibleRect(), m = 12 / transform.k;
    return p.x - p.width / 2 > r.x0 + m && p.x + p.width / 2 < r.x1 - m && p.y - p.height / 2 > r.y0 + m + TOP / transform.k
      && p.y + p.height / 2 < r.y1 - m;
  }

  // Where the view is heading (a follow in flight): the chain-rule card is placed for where the nodes will be.
  // (+100 ms: even a 0 ms transition starts on the next timer tick, after a frame that may already read it.)
  let goal = null, goalUntil = 0;
  function panTo(t, duration = 300) {
    goal = t; goalUntil = performance.now() + duration + 100;
    if (!duration) svg.interrupt("view"); // a jump wins over a pan still in flight (it would carry the view back)
    (duration ? svg.transition("view").duration(duration) : svg).call(zoom.transform, t);
  }

  /** Centre point p at scale k. */
  function centre(p, duration = 400, k = Math.max(transform.k, 0.8)) {
    if (Math.abs(k - transform.k) > 0.01) duration = 0; // animated rescaling re-lays out every visible text each frame
    panTo(d3.zoomIdentity.translate(dims().w / 2, dims().h / 2).scale(k).translate(-p.x, -p.y), duration);
  }

  function fitScale(l) {
    const w = dims().w || 800, h = dims().h || 500;
    return Math.max(0.02, Math.min(1.4, 0.97 * Math.min(w / (l.width || 1), (h - TOP) / (l.height || 1))));
  }

  /** Fit the box {x, y, width, height} (graph coordinates) in the pane, at most at scale `most`. */
  function fitBox(b, most = 1.4) {
    const w = dims().w || 800, h = dims().h || 500;
    const k = Math.max(0.02, Math.min(most, 0.95 * Math.min(w / (b.width || 1), (h - TOP) / (b.height || 1))));
    svg.call(zoom.transform, d3.zoomIdentity.translate(w / 2, TOP + (h - TOP) / 2).scale(k).translate(-(b.x + b.width / 2), -(b.y + b.height / 2)));
  }

  function fit(l, duration = 0) {
    const w = dims().w || 800, h = dims().h || 500;
    const k = fitScale(l);
    panTo(d3.zoomIdentity.translate((w - l.width * k) / 2, TOP + (h - TOP - l.height * k) / 2).scale(k), duration);
  }

  return {
    get transform() { return transform; },
    visibleRect, shows, centre, fit, fitScale, fitBox, panTo,
    /** The transform the view is heading to (a follow or pan in flight), else the current one. */
    destination: () => (goal && (performance.now() < goalUntil || Object.values(svg.node().__transition || {}).some((tr) => tr.name === "view")) ? goal : transform),
    zoomBy: (f) => { goal = null; svg.transition("view").duration(200).call(zoom.scaleBy, f); },
    restore: (t) => svg.call(zoom.transform, t),
  };
}
