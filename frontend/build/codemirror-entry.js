// The slice of CodeMirror 6 the page uses, re-exported so esbuild makes one self-contained ES module.
export { EditorView, basicSetup } from "codemirror";
export { keymap, Decoration, gutter, GutterMarker, lineNumbers } from "@codemirror/view";
export { EditorState, StateField, StateEffect, RangeSetBuilder, Compartment, Prec } from "@codemirror/state";
export { python } from "@codemirror/lang-python";
export { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
export { tags } from "@lezer/highlight";
