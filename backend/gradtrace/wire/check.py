"""The check of what a run sent: JSON only, finite numbers only, only what the Trace schema allows, value rows
whose contents agree with their shape, refs that point into the value table. Linear in the frame's size: no
regex, no parser with super-linear cases. The result is the canonical form (compact version 1) as bytes."""
import json

import pydantic_core
from pydantic import ValidationError

from ..schema import Trace
from ..tracer import columns, compact

# The finite-difference check's own message when its wall-clock budget ran out (tracer/finite_diff.py): load-dependent.
FD_CUT_SHORT = "stopped after "
_SPECIAL = ("nan", "inf", "-inf")
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class Invalid(ValueError):
    """The frame is not a valid trace; the message says why (for the log, never for the user)."""


def encode(data: dict) -> bytes:
    """Compact JSON; a non-finite number (1e999 parses as inf) or a lone surrogate is Invalid."""
    try:
        return _encode(data).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:
        raise Invalid(f"cannot encode: {str(exc)[:200]}") from None


def check_values(v: dict, max_elements: int) -> None:
    """A Values whose `values` holds exactly prod(shape) numbers nested as the shape says, and at most max_elements."""
    shape, values = v.get("shape"), v.get("values")
    if not isinstance(shape, list) or any(type(d) is not int or d < 0 for d in shape):
        raise Invalid("a value row's shape is not a list of sizes")
    if values is None:
        return
    n = 0 if 0 in shape else 1
    for d in shape:
        n *= d
        if n > max_elements:
            raise Invalid(f"a value row has more than {max_elements} elements")
    level = [values]
    for d in shape:  # one level of nesting per dimension; each list is visited once
        below = []
        for x in level:
            if type(x) is not list or len(x) != d:
                raise Invalid("a value row's length disagrees with its shape")
            below.extend(x)
        level = below
    for x in level:
        if not (type(x) in (int, float) or x in _SPECIAL):
            raise Invalid("a value row holds something other than numbers")


def _refs_in(table_size: int):
    def ref(v):
        if type(v) is int and not 0 <= v < table_size:
            raise Invalid("a value ref points outside the value table")
        return v
    return ref


def canonical(data: dict, max_elements: int) -> dict:
    """A parsed, schema-valid trace (any form) → compact version 1, checked; raises Invalid."""
    if data.get("format") == "compact" and data.get("compact_version", 1) != 1:
        data = columns.decode(data)
    data = compact.compact(data, 1)  # full → a value table (linear; the same Values object is one row)
    data.pop("trace_key", None)
    table = data.get("value_table") or []
    for row in table:
        if not isinstance(row, dict):
            raise Invalid("a value row is not a Values object")
        check_values(row, max_elements)
    fd = data.get("finite_difference")
    if isinstance(fd, dict) and isinstance(fd.get("grad"), dict):
        check_values(fd["grad"], max_elements)
    compact.map_values(data, _refs_in(len(table)))
    return data


def meta(data: dict) -> dict:
    """What the cache needs to know about a canonical trace, without reading it again."""
    error = data.get("error") or {}
    fd = data.get("finite_difference")
    fd_error = fd.get("error") if isinstance(fd, dict) else None
    return {"status": data.get("status"), "error_kind": error.get("kind"), "error_type": error.get("type"),
            "load_dependent": isinstance(fd_error, str) and fd_error.startswith(FD_CUT_SHORT)}


def check_frame(payload: bytes, max_elements: int) -> tuple[bytes, dict]:
    """A run's result frame → (canonical bytes, meta); raises Invalid."""
    try:
        Trace.model_validate_json(payload)
        data = pydantic_core.from_json(payload, allow_inf_nan=False)
    except (ValidationError, ValueError, RecursionError) as exc:
        raise Invalid(str(exc)[:300]) from None
    data = canonical(data, max_elements)
    return encode(data), meta(data)


def check_trace(trace: dict, max_elements: int) -> tuple[bytes, dict]:
    """A trace this server made itself (an error trace, an in-process runner's) → (canonical bytes, meta)."""
    try:
        if trace.get("format") == "compact" and trace.get("compact_version", 1) != 1:
            trace = columns.decode(trace)
        Trace.model_validate(trace)
    except (ValidationError, ValueError, RecursionError) as exc:
        raise Invalid(str(exc)[:300]) from None
    data = canonical(json.loads(encode(trace)), max_elements)  # a copy: the caller's dict is left as it was
    return encode(data), meta(data)
