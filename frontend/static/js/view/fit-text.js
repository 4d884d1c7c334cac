// Shrink an element's type until its whole text fits its box (a narration must never be cut); scroll below a floor.

/** Fit `el`'s text: its CSS font size, stepped down by 6% at most to `minPx`; returns the size used. */
export function fitText(el, { minPx = 11 } = {}) {
  el.style.fontSize = "";
  el.style.height = "";
  el.removeAttribute("tabindex");
  if (!el.clientHeight || el.scrollHeight <= el.clientHeight + 1) return null;
  el.style.height = `${el.clientHeight}px`; // CSS gives the box in em: keep it while the type shrinks
  let size = parseFloat(el.ownerDocument.defaultView.getComputedStyle(el).fontSize);
  while (el.scrollHeight > el.clientHeight + 1 && size > minPx) {
    size = Math.max(minPx, size * 0.94);
    el.style.fontSize = `${size}px`;
  }
  if (el.scrollHeight > el.clientHeight + 1) el.tabIndex = 0; // still too long: it scrolls, reachable by keyboard too
  return size;
}
