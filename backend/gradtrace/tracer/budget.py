"""Keep a trace under the byte limit by leaving out whole-tensor contents (summaries stay), largest first."""
import json

from .compact import map_values

_PER_RECORD = 260  # bytes a forward step, node, tensor or backward step takes in JSON, roughly


def _count(values: dict) -> int:
    n = 1
    for s in values.get("shape") or ():
        n *= s
    return n if values.get("values") is not None else 0


def _entry_bytes(values: dict) -> int:
    return 90 + 14 * _count(values)


def fit(trace: dict, max_bytes: int) -> str | None:
    """Shrink `trace` in place when it would pass `max_bytes`; the reason to report, or None when it fits."""
    distinct: dict[int, dict] = {}

    def collect(v):
        if isinstance(v, dict):
            distinct.setdefault(id(v), v)
        return v

    if trace.get("format") == "compact":
        for v in trace["value_table"]:
            collect(v)
    else:
        map_values(trace, collect)
    records = len(trace["forward"]) + len(trace["nodes"]) + len(trace["tensors"]) + \
        sum(len(p["steps"]) for p in trace["backward"])
    estimate = records * _PER_RECORD + sum(_entry_bytes(v) for v in distinct.values()) + len(trace.get("stdout", ""))
    if estimate < max_bytes // 2:
        return None
    size = len(json.dumps(trace))  # exact, only for a trace that may be near the limit
    if size <= max_bytes:
        return None
    target = int(max_bytes * 0.9)
    for v in sorted(distinct.values(), key=_count, reverse=True):
        if size <= target or _count(v) <= 1:
            break
        size -= len(json.dumps(v["values"])) - 4
        v["values"] = None
    return (f"the trace would be larger than {max_bytes} bytes: the contents of large tensors were left out "
            "(their shape, min, max, mean and sum are kept)")
