// Names for unnamed intermediates from the program's own text: `2 * x`, `inp + 1`, `np.exp(-x)`.
// A tiny parser for Python expressions on one line; sub-expressions in evaluation order are matched to the
// forward steps recorded on that line.

const TOKEN = /\s*(?:(\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(\*\*|\/\/|==|!=|<=|>=|->|[-+*/@%<>()[\],.:=~&|^]))/y;

function tokenize(s) {
  const out = [];
  TOKEN.lastIndex = 0;
  let m;
  while (TOKEN.lastIndex < s.length && (m = TOKEN.exec(s))) {
    const text = m[0].trim();
    if (!text) break;
    const start = m.index + m[0].length - text.length;
    out.push({ text, start, end: start + text.length, kind: m[1] ? "num" : m[2] ? "name" : m[3] ? "str" : "op" });
  }
  return out;
}

const BIN = { "or": 1, "and": 2, "<": 4, ">": 4, "==": 4, "!=": 4, "<=": 4, ">=": 4, "|": 5, "^": 6, "&": 7, "+": 9, "-": 9, "*": 10, "/": 10, "//": 10, "%": 10, "@": 10, "**": 12 };

/** Sub-expressions of one line's expression, innermost first (the order Python evaluates them). */
export function subexpressions(line) {
  const code = stripComment(String(line || ""));
  const rhs = expressionPart(code);
  if (rhs === null) return [];
  const toks = tokenize(rhs.text);
  let i = 0;
  const nodes = [];
  const text = (a, b) => rhs.text.slice(a, b).trim();
  const peek = () => toks[i];
  const take = () => toks[i++];
  const expect = (t) => { if (peek()?.text !== t) throw new Error("parse"); return take(); };
  const add = (n) => { nodes.push(n); return n; };

  function primary() {
    const t = take();
    if (!t) throw new Error("parse");
    let node;
    if (t.text === "(" || t.text === "[") {
      const close = t.text === "(" ? ")" : "]";
      if (peek()?.text === close) { take(); node = { kind: "lit", start: t.start, end: toks[i - 1].end }; }
      else {
        const inner = list(close);
        const c = expect(close);
        node = inner.items.length === 1 && !inner.trailing && t.text === "(" ? { ...inner.items[0], paren: [t.start, c.end] }
          : { kind: "tuple", start: t.start, end: c.end };
      }
    } else if (t.text === "-" || t.text === "+" || t.text === "~" || t.text === "not") {
      const arg = unaryOperand();
      node = add({ kind: "unary", op: t.text, start: t.start, end: arg.end, args: [arg] });
    } else if (t.kind === "num" || t.kind === "str") node = { kind: "lit", start: t.start, end: t.end };
    else if (t.kind === "name") node = { kind: "name", name: t.text, start: t.start, end: t.end };
    else throw new Error("parse");
    for (;;) { // trailers: .attr, (args), [index]
      const p = peek();
      if (node.paren && [".", "(", "["].includes(p?.text)) node = { ...node, start: node.paren[0], end: node.paren[1], paren: null };
      if (p?.text === ".") { take(); const n = take(); node = add({ kind: "attr", name: n.text, start: node.start, end: n.end, obj: node }); }
      else if (p?.text === "(") {
        take();
        if (peek()?.text !== ")") list(")", true);
        const c = expect(")");
        const callee = node.kind === "attr" ? node.name : node.name;
        if (node.kind === "attr") nodes.splice(nodes.indexOf(node), 1); // x.exp() is one call, not an attribute read
        node = add({ kind: "call", name: callee, module: node.kind === "attr" ? node.obj : null, start: node.start, end: c.end });
      } else if (p?.text === "[") { take(); subscript(); const c = expect("]"); node = add({ kind: "index", start: node.start, end: c.end, obj: node }); }
      else break;
    }
    return node;
  }

  function unaryOperand() {
    let left = primary();
    if (peek()?.text === "**") { take(); const r = expr(12); left = add({ kind: "bin", op: "**", start: left.start, end: r.end, args: [left, r] }); }
    return left;
  }

  function expr(minPrec = 0) {
    let left = primary();
    for (;;) {
      const p = peek();
      const prec = p && BIN[p.text];
      if (!prec || prec < minPrec) return left;
      take();
      const right = expr(p.text === "**" ? prec : prec + 1);
      left = add({ kind: "bin", op: p.text, start: left.paren ? left.paren[0] : left.start, end: right.paren ? right.paren[1] : right.end, args: [left, right] });
    }
  }

  // An index or slice (`[0]`, `[:4]`, `[:, 1:-1]`): its tokens up to the matching `]`, not expressions of the line.
  function subscript() {
    const save = i, kept = nodes.length;
    try { list("]"); if (peek()?.text === "]") return; } catch { /* a slice: `:` is no expression */ }
    i = save;
    nodes.length = kept;
    let depth = 0;
    while (peek() && !(depth === 0 && peek().text === "]")) {
      const t = take().text;
      if ("([{".includes(t)) depth++;
      else if (")]}".includes(t)) depth--;
    }
  }

  function list(close, call = false) {
    const items = [];
    let trailing = false;
    while (peek() && peek().text !== close) {
      if (call && peek().kind === "name" && toks[i + 1]?.text === "=") { take(); take(); }
      items.push(expr());
      trailing = false;
      if (peek()?.text === ",") { take(); trailing = true; } else break;
    }
    return { items, trailing };
  }

  try {
    list(null);
    return nodes.map(out);
  } catch {
    return nodes.length ? nodes.map(out) : [];
  }

  function out(n) {
    const base = n.kind === "index" && n.obj ? { kind: n.obj.kind, text: text(n.obj.start, n.obj.end) } : null;
    return { kind: n.kind, op: n.op, name: n.name, module: n.module?.name ?? null, text: text(n.start, n.end), base };
  }
}

function stripComment(s) {
  let q = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) { if (c === "\\") i++; else if (c === q) q = null; }
    else if (c === "'" || c === '"') q = c;
    else if (c === "#") return s.slice(0, i);
  }
  return s;
}

// The expression part of a statement line: right of `=`/`+=`, after `return`/`while`/`if`, else the line.
function expressionPart(line) {
  let s = line.trim().replace(/:\s*$/, "");
  s = s.replace(/^(return|while|if|elif|assert|yield)\s+/, "");
  if (/^(for|def|class|with|import|from|try|except|else|finally)\b/.test(s)) return null;
  let depth = 0, q = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) { if (c === "\\") i++; else if (c === q) q = null; continue; }
    if (c === "'" || c === '"') q = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "=" && depth === 0 && s[i + 1] !== "=" && !"=!<>".includes(s[i - 1])) {
      const aug = /[-+*/@%&|^]$/.test(s.slice(0, i)) ? 1 : 0;
      return { text: s.slice(i + 1), offset: i + 1 - aug };
    }
  }
  return { text: s, offset: 0 };
}

const BIN_OPS = { "*": ["mul"], "+": ["add"], "-": ["sub", "rsub"], "/": ["div", "true_divide", "reciprocal"], "//": ["floor_divide"],
  "@": ["matmul", "mm", "bmm", "mv", "dot"], "**": ["pow"], "<": ["lt"], ">": ["gt"], "<=": ["le"], ">=": ["ge"], "==": ["eq"], "!=": ["ne"], "%": ["remainder", "fmod"] };

/** Can forward op `op` be what sub-expression `n` computed? */
export function matches(op, n) {
  const o = String(op).replace(/_$/, "");
  if (n.kind === "bin") return (BIN_OPS[n.op] || []).includes(o);
  if (n.kind === "unary") return n.op === "-" ? o === "neg" : false;
  if (n.kind === "attr") return n.name === o || (n.name === "T" && (o === "t" || o === "permute" || o === "numpy_T"));
  if (n.kind === "index") return ["index", "select", "slice", "getitem"].includes(o);
  if (n.kind === "call") {
    const name = String(n.name || "").replace(/_$/, "");
    if (name === o) return true;
    if (n.module === "np" || n.module === "numpy") return o === "numpy";
    return (name === "Linear" && o === "linear") || (name === "apply" && op === n.module);
  }
  return false;
}

/**
 * Source text for each forward step's outputs: Map tensor id → text, for tensors the program never named.
 * Steps on one line take that line's sub-expressions in order; a new pass over the line (a loop) starts afresh.
 */
export function sourceNames(trace, source) {
  const names = new Map((trace.tensors || []).map((t) => [t.id, t.name]));
  // `model[0].bias.grad[:4]`: the slice is `[:4]` of the tensor `model.0.bias.grad`, not `model[0]` (a module)
  const indexesInput = (n, s) => {
    if (n.kind !== "index" || !n.base || (n.base.kind !== "name" && n.base.kind !== "attr")) return true;
    const input = names.get((s.inputs || [])[0]);
    return !input || n.base.text.replace(/\[\s*(\d+)\s*\]/g, ".$1").replace(/\s+/g, "") === input;
  };
  const lines = String(source || "").split("\n");
  const out = new Map();
  let runLine = null, claimed = new Set(), subs = [];
  (trace.forward || []).forEach((s) => {
    if (s.line == null || !(s.outputs || []).length) return;
    if (s.line !== runLine) { runLine = s.line; claimed = new Set(); subs = subexpressions(lines[s.line - 1]); }
    const layer = s.module ? String(s.module).split(".").pop() : null; // self.fc1(x) ran nn.Module fc1
    const ok = (n) => (matches(s.op, n) && indexesInput(n, s)) || (layer && n.kind === "call" && n.name === layer);
    let j = subs.findIndex((n, idx) => !claimed.has(idx) && ok(n));
    if (j < 0 && subs.some(ok)) { claimed = new Set(); j = subs.findIndex(ok); } // the line ran again
    if (j < 0) return;
    claimed.add(j);
    const o = s.outputs[0];
    if (!(s.inputs || []).includes(o) && !out.has(o)) out.set(o, subs[j].text);
  });
  return out;
}
