// Shrink an element's type until its whole text fits its box (a narration must never be cut); scroll below a floor.

/** Fit `el`'s text: its CSS font size, shrunk as needed down to `minPx`; returns the size used. */
export function fitText(el, { minPx = 11 } = {}) {
  // Writes only where something changes, and few reads: each read after a write lays out the page (and its SVG).
  if (el.style.fontSize) el.style.fontSize = "";
  if (el.style.height) el.style.height = "";
  if (el.hasAttribute("tabindex")) el.removeAttribute("tabindex");
  const box = el.clientHeight;
  let over = el.scrollHeight;
  if (!box || over <= box + 1) return null;
  el.style.height = `${box}px`; // CSS gives the box in em: keep it while the type shrinks
  let size = parseFloat(el.ownerDocument.defaultView.getComputedStyle(el).fontSize);
  // Wrapped text's height grows with the square of its size: one jump to about the fitting size, then 6% steps.
  let factor = Math.min(0.94, Math.sqrt(box / over));
  while (over > box + 1 && size > minPx) {
    size = Math.max(minPx, size * factor);
    el.style.fontSize = `${size}px`;
    over = el.scrollHeight;
    factor = 0.94;
  }
  if (over > box + 1) el.tabIndex = 0; // still too long: it scrolls, reachable by keyboard too
  return size;
}
