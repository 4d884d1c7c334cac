// Shrink an element's type until its whole text fits its box (a narration must never be cut); scroll below a floor.

/** Fit `el`'s text: its CSS font size, shrunk as needed down to `minPx`; returns the size used. */
export function fitText(el, { minPx = 11 } = {}) {
  // Writes only where something changes, and few reads: each read after a write lays out the page (and its SVG).
  if (el.style.fontSize) el.style.fontSize = "";
  if (el.style.height) el.style.height = "";
  if (el.style.maxHeight) el.style.maxHeight = "";
  if (el.hasAttribute("tabindex")) el.removeAttribute("tabindex");
  if (el.classList.contains("scrolls")) el.classList.remove("scrolls");
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
  if (over > box + 1) { // still too long: it scrolls (a visible bar), reachable by keyboard too, showing whole lines only
    const line = parseFloat(el.ownerDocument.defaultView.getComputedStyle(el).lineHeight) || size * 1.3;
    el.style.maxHeight = `${Math.max(1, Math.floor((box + 0.5) / line)) * line}px`;
    el.tabIndex = 0;
    el.classList.add("scrolls");
    const room = el.clientHeight; // the title's "scroll for more" may wrap it and take a line from the box
    if (room + 0.5 < parseFloat(el.style.maxHeight)) el.style.maxHeight = `${Math.max(1, Math.floor((room + 0.5) / line)) * line}px`;
  }
  return size;
}
