// Compact trace version 2 (docs/trace-api-v1.md): column tables, an atom table and packed float32 Values, read back
// into compact version 1 (record objects, a value table of Values). Mirrors backend/gradtrace/tracer/columns.py.

const SAVED = { name: "a", values: "v", tensor: "t", repr: "a" };
const STEPS = { node: "n", grad_outputs: "V", grad_inputs: "V", tensor_grad: "v" };
export const TABLES = {
  tensors: { id: "id:t", name: "a", shape: "a", dtype: "a", grad_fn: "n", data: "v", grad: "v", grad_of: "t", line: "i" },
  nodes: { id: "id:n", name: "a", tensor: "t", next: "next", saved: ["sub", SAVED], line: "i", kind: "a" },
  forward: { op: "a", inputs: "T", outputs: "T", node: "n", line: "i", values: "V", kind: "a", module: "a" },
  backward: { root: "t", steps: ["sub", STEPS] },
};
const STATS = ["values", "min", "max", "mean", "sum"];

const copy = (c) => (Array.isArray(c) ? c.slice() : c);

function unrle(column) {
  if (Array.isArray(column)) return column;
  const runs = column.rle, out = [];
  for (let i = 0; i < runs.length; i += 2) for (let k = 0; k < runs[i + 1]; k++) out.push(copy(runs[i]));
  return out;
}

function undelta(cells) {
  let base = 0;
  const step = (x) => (Number.isInteger(x) ? (base += x) : x);
  return cells.map((c) => (Array.isArray(c) ? c.map(step) : step(c)));
}

const ref = (p) => (i) => (i === null ? null : `${p}${i}`);

function decoder(kind, atoms) {
  if (kind === "a") return (i) => (i === null ? null : copy(atoms[i]));
  if (kind === "t" || kind === "n") return ref(kind);
  if (kind === "T" || kind === "N") { const r = ref(kind.toLowerCase()); return (v) => v.map(r); }
  if (kind === "next") return (v) => v.map((x) => (Array.isArray(x) ? [ref("n")(x[0]), x[1]] : [ref("n")(x), 0]));
  return null; // v, V, i: the ints themselves
}

/** A column table → its list of objects (a list is returned as it is). */
export function decodeTable(table, spec, atoms) {
  if (!table || Array.isArray(table) || typeof table !== "object") return table;
  const rows = Array.from({ length: table.n }, () => ({}));
  const idKind = Object.values(spec).find((k) => typeof k === "string" && k.startsWith("id:"));
  if (idKind && !("id" in table.c)) rows.forEach((r, i) => { r.id = `${idKind.slice(3)}${i + 1}`; });
  const raw = new Set(table.raw || []), delta = new Set(table.d || []), subs = table.sub || {}, presence = table.p || {};
  for (const [field, column] of Object.entries(table.c)) {
    let cells = unrle(column);
    const kind = spec[field] ?? "r";
    if (field in subs) {
      const items = decodeTable(subs[field], kind[1], atoms);
      let at = 0;
      cells = cells.map((count) => items.slice(at, (at += count)));
    } else if (!raw.has(field) && kind !== "r") {
      if (delta.has(field)) cells = undelta(cells);
      const dec = decoder(kind, atoms);
      if (dec) cells = cells.map(dec);
    }
    const runs = presence[field];
    if (!runs) { rows.forEach((r, i) => { r[field] = cells[i]; }); continue; }
    let at = 0, row = 0, present = true;
    for (const length of runs) {
      if (present) for (let j = 0; j < length; j++) rows[row + j][field] = cells[at + j];
      if (present) at += length;
      row += length;
      present = !present;
    }
  }
  return rows;
}

const round = (x) => (typeof x === "number" ? Math.fround(x) : Array.isArray(x) ? x.map(round) : x);

/** A packed value-table entry → its Values: a float32 scalar, [shape, values, min, max, mean, sum], or the Values. */
export function unpackValues(e) {
  if (e && typeof e === "object" && !Array.isArray(e)) return e;
  if (Array.isArray(e)) return Object.fromEntries([["shape", e[0].slice()], ...STATS.map((k, i) => [k, round(e[i + 1])])]);
  const x = round(e);
  return { shape: [], values: x, min: x, max: x, mean: x, sum: x };
}

/** A version 2 compact trace → version 1 (a new object; the input is not changed). */
export function decodeColumns(trace) {
  const atoms = trace.atoms || [];
  const out = { ...trace };
  delete out.atoms;
  delete out.compact_version;
  for (const [k, spec] of Object.entries(TABLES)) if (k in trace) out[k] = decodeTable(trace[k], spec, atoms);
  if (Array.isArray(trace.value_table)) out.value_table = trace.value_table.map(unpackValues);
  return out;
}
