"""Compact trace version 2: record lists as column tables, one atom table, packed float32 Values (docs/trace-api-v1.md)."""
import json
import operator
import re
from itertools import groupby

from .packed import Short, pack_values, unpack_values

VERSION = 2

# Field codecs: a atom (string or list, by index into `atoms`), t/n tensor/node id as its number, T/N lists of those,
# v value ref, V list of value refs, i int, next Node.next pairs, a tuple ("sub", spec) a nested table. Other fields raw.
SAVED = {"name": "a", "values": "v", "tensor": "t", "repr": "a"}
STEPS = {"node": "n", "grad_outputs": "V", "grad_inputs": "V", "tensor_grad": "v"}
TABLES = {
    "tensors": {"id": "id:t", "name": "a", "shape": "a", "dtype": "a", "grad_fn": "n", "data": "v", "grad": "v",
                "grad_of": "t", "line": "i"},
    "nodes": {"id": "id:n", "name": "a", "tensor": "t", "next": "next", "saved": ("sub", SAVED), "line": "i", "kind": "a"},
    "forward": {"op": "a", "inputs": "T", "outputs": "T", "node": "n", "line": "i", "values": "V", "kind": "a", "module": "a"},
    "backward": {"root": "t", "steps": ("sub", STEPS)},
}
_INTS = set("tnTNvVi") | {"next"}


class _Raw(ValueError):
    """A cell the field's codec cannot carry: the whole column is written as it is."""


# ---- cells ----------------------------------------------------------------------------------------------------
def _ref(prefix: str):
    pattern = re.compile(prefix + r"([1-9][0-9]*)\Z")
    memo: dict = {None: None}

    def enc(v):
        out = memo.get(v, memo) if isinstance(v, str) or v is None else memo
        if out is memo:
            m = pattern.match(v) if isinstance(v, str) else None
            if m is None:
                raise _Raw
            out = memo[v] = int(m.group(1))
        return out
    return enc


_REF = {"t": _ref("t"), "n": _ref("n")}


def _int(v):
    if v is None or (isinstance(v, int) and not isinstance(v, bool)):
        return v
    raise _Raw


def _encoder(kind, atoms):
    if kind == "a":
        return atoms
    if kind in ("t", "n"):
        return _REF[kind]
    if kind in ("T", "N"):
        ref = _REF[kind.lower()]
        return lambda v: [ref(x) for x in v] if isinstance(v, list) else _raise()
    if kind in ("v", "i"):
        return _int
    if kind == "V":
        return lambda v: [_int(x) for x in v] if isinstance(v, list) else _raise()
    if kind == "next":
        return _next
    raise AssertionError(kind)


def _raise():
    raise _Raw


def _next(v):
    if not isinstance(v, list):
        raise _Raw
    out = []
    for pair in v:
        if not (isinstance(pair, list) and len(pair) == 2) or isinstance(pair[1], bool) or not isinstance(pair[1], int):
            raise _Raw
        node = _REF["n"](pair[0])
        out.append(node if pair[1] == 0 else [node, pair[1]])
    return out


class _Atoms:
    """Strings and small lists (shapes) written once, referenced by index."""

    def __init__(self):
        self.table: list = []
        self.index: dict = {}

    def __call__(self, v):
        if v is None:
            return None
        if isinstance(v, str):
            key = v
        elif isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            key = ("list", *v)
        else:
            raise _Raw
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.table)
            self.table.append(v)
        return i


# ---- columns --------------------------------------------------------------------------------------------------
def _delta(cells: list) -> list:
    """Each int (a cell's, or a list cell's top-level ones) minus the int before it in the column; null skipped."""
    if cells and None not in cells and all(type(c) is int for c in cells):
        return [cells[0], *map(operator.sub, cells[1:], cells)]
    out, base = [], 0
    append = out.append
    for c in cells:
        kind = type(c)
        if kind is int:
            append(c - base)
            base = c
        elif kind is list:
            row = []
            for x in c:
                if type(x) is int:
                    row.append(x - base)
                    base = x
                else:
                    row.append(x)
            append(row)
        else:
            append(c)
    return out


def _key(c):
    return c if c is None or type(c) is int else repr(c)  # by repr: -0.0 is not 0.0, True is not 1


def _rle(cells: list, exact: bool = False):
    """[cell, count, cell, count, …] when that is shorter, else the cells. `exact`: == is enough (ints, null, lists of them)."""
    keys = cells if exact else list(map(_key, cells))
    if (1 + sum(map(operator.ne, keys[1:], keys))) * 3 >= len(cells):
        return cells
    runs: list = []
    for _, run in groupby(range(len(cells)), keys.__getitem__):
        first = next(run)
        runs += [cells[first], 1 + sum(1 for _ in run)]  # noqa: B031 (one pass: the rest of the same run)
    return {"rle": runs}


_DUMPS = json.JSONEncoder(separators=(",", ":")).encode  # what json.dumps(…, separators=…) builds on every call


def _size(column) -> int:
    return len(_DUMPS(column))


def _column(cells: list, kind, atoms) -> tuple:
    """(column, is_delta) or raises _Raw."""
    if kind in ("v", "i") and all(c is None or type(c) is int for c in cells):
        mapped = cells
    else:
        enc = _encoder(kind, atoms)
        mapped = [enc(c) for c in cells]
    plain = _rle(mapped, exact=True)
    if kind not in _INTS:
        return plain, False
    delta = _rle(_delta(mapped), exact=True)
    return (delta, True) if _size(delta) < _size(plain) else (plain, False)


def _presence(rows: list, field: str) -> list | None:
    """Run lengths [present, absent, present, …] of `field` over the rows; None when every row has it."""
    flags = [field in r for r in rows]
    if all(flags):
        return None
    runs = [len(list(g)) for _, g in groupby(flags)]
    return runs if flags[0] else [0, *runs]


def encode_table(rows: list, spec: dict, atoms: _Atoms):
    """A list of objects → {"n", "c": columns, "p": presence runs, "d": delta fields, "raw": fields, "sub": tables}."""
    if not all(isinstance(r, dict) for r in rows):
        return rows
    fields: dict = {}
    for r in rows:
        for k in r:
            fields.setdefault(k)
    table: dict = {"n": len(rows), "c": {}}
    for field in fields:
        kind = spec.get(field, "r")
        runs = _presence(rows, field)
        cells = [r[field] for r in rows if field in r]
        if isinstance(kind, str) and kind.startswith("id:"):
            if runs is None and cells == [f"{kind[3:]}{i + 1}" for i in range(len(rows))]:
                continue  # ids implied by position
            kind = "r"
        if runs is not None:
            table.setdefault("p", {})[field] = runs
        if isinstance(kind, tuple):
            sub = encode_table([x for c in cells for x in c], kind[1], atoms) \
                if all(isinstance(c, list) for c in cells) else None
            if isinstance(sub, dict):
                table.setdefault("sub", {})[field] = sub
                table["c"][field] = _rle([len(c) for c in cells])
                continue
            kind = "r"
        if kind != "r":
            try:
                table["c"][field], is_delta = _column(cells, kind, atoms)
                if is_delta:
                    table.setdefault("d", []).append(field)
                continue
            except _Raw:
                pass
        if field in spec:  # a coded field written as it is
            table.setdefault("raw", []).append(field)
        table["c"][field] = _rle(cells)
    return table


def encode(trace: dict) -> dict:
    """A compact (version 1) trace → version 2, as a new dict; the input is not changed."""
    atoms, short = _Atoms(), Short()
    out = {}
    for k, v in trace.items():
        if k in TABLES and isinstance(v, list):
            v = encode_table(v, TABLES[k], atoms)
        elif k == "value_table":
            v = [pack_values(e, short) for e in v]
        out[k] = v
    out["atoms"] = atoms.table
    out["compact_version"] = VERSION
    return out


# ---- reading --------------------------------------------------------------------------------------------------
def _unrle(column) -> list:
    if isinstance(column, dict):
        runs = column["rle"]
        out = []
        for i in range(0, len(runs), 2):
            c = runs[i]
            out += [list(c) if isinstance(c, list) else c for _ in range(runs[i + 1])]
        return out
    return column


def _undelta(cells: list) -> list:
    out, base = [], 0
    for c in cells:
        if isinstance(c, int):
            base += c
            out.append(base)
        elif isinstance(c, list):
            row = []
            for x in c:
                if isinstance(x, int):
                    base += x
                    row.append(base)
                else:
                    row.append(x)
            out.append(row)
        else:
            out.append(c)
    return out


def _decoder(kind, atoms: list):
    if kind == "a":
        return lambda i: None if i is None else (list(atoms[i]) if isinstance(atoms[i], list) else atoms[i])
    if kind in ("t", "n"):
        return lambda i: None if i is None else f"{kind}{i}"
    if kind in ("T", "N"):
        p = kind.lower()
        return lambda v: [None if i is None else f"{p}{i}" for i in v]
    if kind == "next":
        return lambda v: [[f"n{x[0]}" if x[0] is not None else None, x[1]] if isinstance(x, list)
                          else [f"n{x}" if x is not None else None, 0] for x in v]
    return None  # v, V, i: the ints themselves


def decode_table(table, spec: dict, atoms: list) -> list:
    """The inverse of encode_table."""
    if not isinstance(table, dict):
        return table
    n = table["n"]
    rows = [{} for _ in range(n)]
    id_kind = next((k for k in spec.values() if isinstance(k, str) and k.startswith("id:")), None)
    if id_kind and "id" not in table["c"]:
        for i, r in enumerate(rows):
            r["id"] = f"{id_kind[3:]}{i + 1}"
    raw, delta, subs, presence = set(table.get("raw", ())), set(table.get("d", ())), table.get("sub", {}), table.get("p", {})
    for field, column in table["c"].items():
        cells = _unrle(column)
        kind = spec.get(field, "r")
        if field in subs:
            items, cells, at = decode_table(subs[field], kind[1], atoms), list(cells), 0
            for j, count in enumerate(cells):
                cells[j], at = items[at:at + count], at + count
        elif field not in raw and kind != "r":
            if field in delta:
                cells = _undelta(cells)
            dec = _decoder(kind, atoms)
            if dec is not None:
                cells = [dec(c) for c in cells]
        runs = presence.get(field)
        if runs is None:
            for r, c in zip(rows, cells):
                r[field] = c
            continue
        at, row, present = 0, 0, True
        for length in runs:
            if present:
                for j in range(length):
                    rows[row + j][field] = cells[at + j]
                at += length
            row += length
            present = not present
    return rows


def decode(trace: dict) -> dict:
    """A version 2 compact trace → version 1 (a value table, Values refs), in place."""
    atoms = trace.pop("atoms", [])
    trace.pop("compact_version", None)
    for k, spec in TABLES.items():
        if k in trace:
            trace[k] = decode_table(trace[k], spec, atoms)
    if isinstance(trace.get("value_table"), list):
        trace["value_table"] = [unpack_values(e) for e in trace["value_table"]]
    return trace
