// An independent reader of printed formulas (standard precedence: + − < · ⊙ ⊗ / @ < unary − < ^ and superscripts
// < ᵀ), so a test can check that the printed text, read back, computes the engine's numbers.
const SUP = { "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-" };

function tokens(text) {
  const out = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:e-?\d+)?)|(dL\/d\((?:[^()]|\([^()]*\))*\)|dL\/d(?:(?!ᵀ)[\p{L}\p{M}\p{Nd}_.])+|(?!ᵀ)[\p{L}_√](?:(?!ᵀ)[\p{L}\p{M}\p{Nd}_.])*)|([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)|(ᵀ)|(==|[-+−·⊙⊗/@^(),[\]>≥≤]))/uy;
  let m;
  re.lastIndex = 0;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1]) out.push({ t: "num", v: Number(m[1]) });
    else if (m[2]) out.push({ t: "name", v: m[2] });
    else if (m[3]) out.push({ t: "sup", v: Number([...m[3]].map((c) => SUP[c]).join("")) });
    else if (m[4]) out.push({ t: "T" });
    else if (m[5]) out.push({ t: "op", v: m[5] === "-" ? "−" : m[5] });
  }
  if (re.lastIndex < text.trimEnd().length) throw new Error(`cannot read "${text.slice(re.lastIndex)}" in ${text}`);
  return out;
}

const BIN = { ">": 0, "≥": 0, "≤": 0, "==": 0, "+": 1, "−": 1, "·": 2, "⊙": 2, "⊗": 2, "/": 2, "@": 2 };

/** Text → tree in the node shapes of teach/expr-tree.js (names become sym nodes; f(x, y) a call; sum/mean(x, over) a reduction). */
export function parseFormula(text) {
  const ts = tokens(text);
  let i = 0;
  const peek = () => ts[i];
  const take = (v) => { const t = ts[i]; if (v && !(t && t.v === v)) throw new Error(`expected ${v} at ${i} in ${text}`); i++; return t; };
  function expr(min) {
    let left = unary();
    for (;;) {
      const t = peek();
      if (!t || t.t !== "op" || !(t.v in BIN) || BIN[t.v] < min) return left;
      take();
      left = { t: "bin", op: t.v, a: left, b: expr(BIN[t.v] + 1) }; // left-associative
    }
  }
  function unary() {
    const t = peek();
    if (t && t.t === "op" && t.v === "−") { take(); return { t: "neg", a: unary() }; }
    return power();
  }
  function power() {
    const base = postfix();
    const t = peek();
    if (t && t.t === "sup") { take(); return { t: "bin", op: "^", a: base, b: { t: "num", v: t.v } }; }
    if (t && t.t === "op" && t.v === "^") { take(); return { t: "bin", op: "^", a: base, b: unary() }; }
    return base;
  }
  function postfix() {
    let e = atom();
    while (peek()?.t === "T") { take(); e = { t: "post", op: "ᵀ", a: e }; }
    return e;
  }
  function atom() {
    const t = take();
    if (t.t === "num") return { t: "num", v: t.v };
    if (t.t === "op" && t.v === "(") { const e = expr(0); take(")"); return e; }
    if (t.t === "op" && t.v === "[") { const e = expr(0); take("]"); return { t: "ind", a: e }; }
    if (t.t === "name") {
      if (peek()?.v === "(") {
        take("(");
        const args = [expr(0)];
        while (peek()?.v === ",") { take(","); args.push(expr(0)); }
        take(")");
        if ((t.v === "sum" || t.v === "mean") && args.length === 2 && args[1].t === "sym") return { t: "red", kind: t.v, a: args[0], over: args[1].k };
        return { t: "call", fn: t.v, args };
      }
      return { t: "sym", k: t.v };
    }
    throw new Error(`unexpected ${JSON.stringify(t)} in ${text}`);
  }
  const e = expr(0);
  if (i !== ts.length) throw new Error(`left over from ${i} in ${text}`);
  return e;
}
