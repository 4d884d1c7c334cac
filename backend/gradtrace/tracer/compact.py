"""The two shapes of a Trace: "full" (every Values inline, the v1 contract) and "compact" (a value table, integer refs).

Compact version 1 is the full structure with Values replaced by refs (the sandbox sends it, the budget counts it);
version 2 (`compact_version: 2`, what the API and `trace(format="compact")` return) also writes the record lists as
column tables (columns.py). Readers take all three.
"""
import contextlib
import gc
import json

from . import columns


@contextlib.contextmanager
def _rare_collections():
    """Converting builds many small lists that all live on: collecting them every 700 allocations doubled the time."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 100_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)

FORMATS = ("full", "compact")


def _map_list(items, f):
    return [f(v) for v in items] if isinstance(items, list) else items


def _map_dict(d, f):
    return {k: f(v) for k, v in d.items()} if isinstance(d, dict) else d


def map_values(trace: dict, f) -> None:
    """Apply `f` to every place a Trace holds a Values object (or a ref to one), in place."""
    for t in trace.get("tensors", ()):
        t["data"] = f(t["data"])
        t["grad"] = f(t["grad"])
    for s in trace.get("forward", ()):
        s["values"] = _map_list(s.get("values"), f)
        if s.get("grad_changes"):
            s["grad_changes"] = _map_dict(s["grad_changes"], f)
        if s.get("data_changes"):
            s["data_changes"] = _map_dict(s["data_changes"], f)
        optim = s.get("optim")
        if optim:
            for k in ("grad", "before", "after"):
                optim[k] = f(optim.get(k))
            optim["terms"] = _map_dict(optim.get("terms") or {}, f)
    for n in trace.get("nodes", ()):
        for entry in n.get("saved", ()):
            entry["values"] = f(entry["values"])
    for p in trace.get("backward", ()):
        p["gradient"] = f(p.get("gradient"))
        if p.get("grads_after"):
            p["grads_after"] = _map_dict(p["grads_after"], f)
        for step in p.get("steps", ()):
            step["grad_outputs"] = _map_list(step.get("grad_outputs"), f)
            step["grad_inputs"] = _map_list(step.get("grad_inputs"), f)
            if "tensor_grad" in step:
                step["tensor_grad"] = f(step["tensor_grad"])
            for h in step.get("hooks") or ():
                h["grad_in"], h["grad_out"] = f(h.get("grad_in")), f(h.get("grad_out"))
    for r in (r for loop in trace.get("loops") or () for r in loop.get("recorded", ())):
        if r.get("params"):
            r["params"] = _map_dict(r["params"], f)
    fd = trace.get("finite_difference")
    if isinstance(fd, dict) and "values" in fd:
        fd["values"] = f(fd["values"])


def resolve(trace: dict, values: list, keys: list, fmt: str) -> dict:
    """A trace whose Values slots hold tracer refs (ints) → the requested format (compact: version 1)."""
    if fmt == "compact":
        return _tabulate(trace, lambda v: (values[v], keys[v]) if isinstance(v, int) else (v, None), by_ref=True)
    map_values(trace, lambda v: values[v] if isinstance(v, int) and not isinstance(v, bool) else v)
    trace.pop("format", None)
    return trace


def _tabulate(trace: dict, lookup, by_ref: bool = False) -> dict:
    """`by_ref`: slots hold tracer refs (ints) whose Values never change, so a ref seen before maps to the same row."""
    table: list[dict] = []
    by_key: dict = {}
    by_obj: dict[int, int] = {}
    memo: dict[int, int] = {}

    def ref(v):
        if v is None or isinstance(v, bool):
            return v
        if by_ref and type(v) is int:
            index = memo.get(v)
            if index is None:
                index = ref_new(v)
                if type(index) is int:
                    memo[v] = index
            return index
        return ref_new(v)

    def ref_new(v):
        values, key = lookup(v)
        if not isinstance(values, dict):
            return values
        index = by_obj.get(id(values))
        if index is not None:
            return index
        if key is None:
            key = json.dumps(values, sort_keys=True)
        index = by_key.get(key)
        if index is None:
            index = by_key[key] = len(table)
            table.append(values)
        by_obj[id(values)] = index
        return index

    map_values(trace, ref)
    trace["format"] = "compact"
    trace["value_table"] = table
    return trace


def compact(trace: dict, version: int = columns.VERSION) -> dict:
    """A full or compact trace → compact `version` (1: value table; 2: also column tables); full → v1 is in place."""
    if trace.get("format") != "compact":
        trace = _tabulate(trace, lambda v: (v, None))
    current = trace.get("compact_version", 1)
    if current == version:
        return trace
    with _rare_collections():
        return columns.encode(trace) if version == columns.VERSION else columns.decode(trace)


def expand(trace: dict) -> dict:
    """A compact trace (version 1 or 2) → full, in place; no-op on a full one."""
    if trace.get("format") != "compact":
        return trace
    with _rare_collections():
        return _expand(trace)


def _expand(trace: dict) -> dict:
    if trace.get("compact_version") == columns.VERSION:
        columns.decode(trace)
    table = trace.pop("value_table", [])

    def f(v):
        if isinstance(v, int) and not isinstance(v, bool):
            return table[v] if 0 <= v < len(table) else None
        return v

    map_values(trace, f)
    trace.pop("format", None)
    return trace


def to_format(trace: dict, fmt: str, compact_version: int = columns.VERSION) -> dict:
    """`trace` in format `fmt` ("full" or "compact", of `compact_version`)."""
    return compact(trace, compact_version) if fmt == "compact" else expand(trace)
