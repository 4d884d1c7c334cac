// The code editor (CodeMirror 6): Python highlighting, line numbers, Ctrl/Cmd+Enter runs,
// and two line highlights driven from outside: the current step's line and the error line.
import {
  EditorView, basicSetup, keymap, Decoration, StateField, StateEffect, EditorState, python,
  HighlightStyle, syntaxHighlighting, tags, Prec,
} from "../../vendor/codemirror.js";

const setLines = StateEffect.define();

const lineField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setLines)) deco = lineDecorations(tr.state, e.value);
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

function lineDecorations(state, { step, error, cause }) {
  const marks = [];
  const add = (line, cls) => {
    if (!line || line < 1 || line > state.doc.lines) return;
    marks.push(Decoration.line({ class: cls, attributes: { "data-line": String(line) } }).range(state.doc.line(line).from));
  };
  add(error, "cm-error-line");
  if (step !== error) add(step, "cm-step-line");
  if (cause !== error && cause !== step) add(cause, "cm-cause-line"); // the line to blame for this step's error or warning
  marks.sort((a, b) => a.from - b.from);
  return Decoration.set(marks);
}

// Colours come from CSS variables so the light/dark switch needs no editor reconfiguration.
const theme = EditorView.theme({
  "&": { backgroundColor: "var(--surface)", color: "var(--text)", height: "100%" },
  ".cm-content": { caretColor: "var(--text)" },
  ".cm-gutters": { backgroundColor: "var(--surface-2)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLine": { backgroundColor: "transparent" },
  ".cm-activeLineGutter": { backgroundColor: "var(--border)" },
  "&.cm-focused .cm-cursor": { borderLeftColor: "var(--text)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground": { backgroundColor: "var(--border) !important" },
});

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "var(--tok-keyword)", fontWeight: "600" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--tok-string)" },
  { tag: [tags.number, tags.bool, tags.null], color: "var(--tok-number)" },
  { tag: tags.comment, color: "var(--tok-comment)", fontStyle: "italic" },
  { tag: [tags.function(tags.variableName), tags.function(tags.propertyName)], color: "var(--tok-call)" },
  { tag: [tags.definition(tags.variableName), tags.className], color: "var(--tok-def)" },
  { tag: tags.operator, color: "var(--tok-op)" },
]);

/** Mount an editor in `parent`; `onRun` is called on Ctrl/Cmd+Enter. */
export function createEditor(parent, { doc = "", onRun = () => {}, onEdit = () => {}, nonce = "" } = {}) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => { onRun(); return true; } }])),
        basicSetup, python(), lineField, theme, Prec.high(syntaxHighlighting(highlight)),
        EditorView.contentAttributes.of({ "aria-label": "Python program", tabindex: "0" }), // an explicit tab stop: its scroller counts as keyboard-reachable
        EditorView.cspNonce.of(nonce), // its <style> element is allowed by the page's CSP nonce
        EditorView.updateListener.of((u) => { if (u.docChanged) onEdit(); }), // any change: typing, paste, drop, undo, setCode
      ],
    }),
  });
  let lines = { step: null, error: null };
  return {
    view,
    get code() { return view.state.doc.toString(); },
    setCode(text) {
      lines = { step: null, error: null };
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, effects: setLines.of(lines) });
    },
    /** Highlight the current step's line and/or the error line; null clears. */
    showLines({ step = lines.step, error = lines.error, cause = null } = {}) {
      if (step === lines.step && error === lines.error && cause === lines.cause) return;
      lines = { step, error, cause };
      const effects = [setLines.of(lines)];
      const target = step ?? error;
      if (target && target <= view.state.doc.lines) {
        effects.push(EditorView.scrollIntoView(view.state.doc.line(target).from, { y: "nearest", yMargin: 40 }));
      }
      view.dispatch({ effects });
      parent.dataset.errorLine = error ?? "";
      parent.dataset.stepLine = step ?? "";
    },
    focus: () => view.focus(),
  };
}
