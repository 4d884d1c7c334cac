// Text a program controls, written into the page as text nodes: bidi and invisible control characters shown as
// marks (as the editor's highlightSpecialChars does, class cm-specialChar), and the program's own words in a
// labelled frame, so an error message can neither reorder what is around it nor pass for the page's narration.
import { PROGRAM_OPEN, PROGRAM_CLOSE } from "../teach/narration.js";

// eslint-disable-next-line no-control-regex -- matching control characters is this pattern's job
export const SPECIAL = /[\u0000-\u0008\u000b-\u001f\u007f\u00ad\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** Append `text` to `el`, each special character as a marked "•" that names its code point. */
export function appendMarked(el, text) {
  const doc = el.ownerDocument;
  let last = 0;
  for (const m of String(text).matchAll(SPECIAL)) {
    if (m.index > last) el.append(doc.createTextNode(text.slice(last, m.index)));
    const mark = doc.createElement("span");
    mark.className = "cm-specialChar";
    const code = m[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
    mark.title = `Control character U+${code}`;
    mark.setAttribute("aria-label", `control character U+${code}`);
    mark.textContent = "•";
    el.append(mark);
    last = m.index + m[0].length;
  }
  if (last < text.length) el.append(doc.createTextNode(text.slice(last)));
}

/** Narration text into `el`: the parts between PROGRAM_OPEN and PROGRAM_CLOSE in a frame labelled as the program's. */
export function setNarration(el, text) {
  const doc = el.ownerDocument;
  el.replaceChildren();
  const parts = String(text).split(new RegExp(`${PROGRAM_OPEN}([^${PROGRAM_CLOSE}]*)${PROGRAM_CLOSE}`, "g"));
  parts.forEach((part, i) => {
    if (i % 2 === 0) { if (part) el.append(doc.createTextNode(part)); return; }
    const frame = doc.createElement("span");
    frame.className = "from-program";
    frame.title = "Written by the program, not by gradtrace";
    const label = doc.createElement("span");
    label.className = "from-program-label";
    label.textContent = "program's message:";
    const words = doc.createElement("q");
    appendMarked(words, part);
    frame.append(label, " ", words);
    el.append(frame);
  });
}
