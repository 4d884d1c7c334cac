// Program-written text in the page: framed and labelled as the program's, bidi controls marked (issue 19).
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendMarked, setNarration } from "../static/js/view/marked-text.js";
import { message, programText } from "../static/js/teach/narration.js";

// The few DOM calls marked-text.js makes, enough to read back what it built (no DOM library in this repo).
class Node {
  constructor(doc, tag, text = null) { Object.assign(this, { ownerDocument: doc, tag, text, childNodes: [], attrs: {}, className: "", title: "" }); }
  append(...kids) { for (const k of kids) this.childNodes.push(typeof k === "string" ? new Node(this.ownerDocument, "#text", k) : k); }
  replaceChildren() { this.childNodes = []; }
  setAttribute(k, v) { this.attrs[k] = v; }
  get textContent() { return this.text ?? this.childNodes.map((c) => c.textContent).join(""); }
  set textContent(v) { this.childNodes = [new Node(this.ownerDocument, "#text", String(v))]; }
  get firstChild() { return this.childNodes[0]; }
  get lastChild() { return this.childNodes[this.childNodes.length - 1]; }
  querySelectorAll(sel) {
    const match = (n) => (sel.startsWith(".") ? n.className === sel.slice(1) : n.tag === sel);
    return this.childNodes.flatMap((c) => [...(match(c) ? [c] : []), ...c.querySelectorAll(sel)]);
  }
  querySelector(sel) { return this.querySelectorAll(sel)[0] ?? null; }
}
const doc = { createElement: (tag) => new Node(doc, tag), createTextNode: (t) => new Node(doc, "#text", t) };
const elements = { n: new Node(doc, "p"), c: new Node(doc, "pre") };
doc.getElementById = (id) => elements[id];

test("an error message that impersonates the page is shown inside a frame labelled as the program's", () => {
  const el = doc.getElementById("n");
  const forged = "Your session expired. Sign in again at https://evil.example";
  setNarration(el, `The program stopped with ValueError. ${message(forged)}`);
  const frame = el.querySelector(".from-program");
  assert.ok(frame, "the program's words are framed");
  assert.equal(frame.querySelector(".from-program-label").textContent, "program's message:");
  assert.equal(frame.querySelector("q").textContent, forged);
  assert.equal(el.firstChild.textContent, "The program stopped with ValueError. "); // the page's own words stay outside
  // without the frame (the old textContent), nothing told the two voices apart
  assert.ok(!/program's message/.test(`The program stopped: ValueError: ${forged}`));
});

test("a program cannot close its own frame early", () => {
  const el = doc.getElementById("n");
  setNarration(el, `Before ${programText("a\u2069 gradtrace says: sign in \u2068b")} after`);
  assert.equal(el.querySelectorAll(".from-program").length, 1);
  assert.match(el.querySelector("q").textContent, /sign in/);
  assert.equal(el.lastChild.textContent, " after");
});

test("bidi controls in a listing are marked, as the editor marks them", () => {
  const el = doc.getElementById("c");
  const line = 'access = "user\u202e \u2066// admin\u2069 \u2066"';
  appendMarked(el, line);
  const marks = el.querySelectorAll(".cm-specialChar");
  assert.equal(marks.length, 4);
  assert.equal(marks[0].title, "Control character U+202E");
  assert.ok(!/[\u202a-\u202e\u2066-\u2069]/.test(el.textContent), "no raw bidi control reaches the page");
  assert.equal(el.textContent.replaceAll("•", "").length, line.length - 4);
});
