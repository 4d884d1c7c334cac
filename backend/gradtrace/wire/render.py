"""The forms a canonical trace (compact version 1 bytes) is answered in, each capped at a size before it is built."""
import pydantic_core

from ..tracer import columns, compact
from .check import encode


class TooLarge(Exception):
    """The answer in the asked form would be `size` bytes, more than `cap`."""

    def __init__(self, size: int, cap: int):
        super().__init__(size, cap)
        self.size, self.cap = size, cap


def with_key(body: bytes, key: str) -> bytes:
    """`body` (a JSON object) with "trace_key" added, without parsing it."""
    return b'{"trace_key":"' + key.encode("ascii") + b'",' + body[1:] if body != b"{}" else body


def full_size(data: dict, canonical_size: int, cap: int) -> int:
    """An upper bound of the full form's size: the canonical bytes plus each referenced row's size, summed as
    it is met and stopped as soon as it passes `cap` (one big row referenced a million times costs one row)."""
    table = data.get("value_table") or []
    row_sizes = [len(encode(row)) for row in table]
    total = canonical_size

    def count(v):
        nonlocal total
        if type(v) is int:
            total += row_sizes[v]
            if total > cap:
                raise TooLarge(total, cap)
        return v

    compact.map_values(data, count)
    return total


def render(canonical: bytes, fmt: str, version: int, key: str, cap: int) -> bytes:
    """The trace in format `fmt` (compact of `version`), with its trace_key; TooLarge past `cap` bytes."""
    if fmt == "compact" and version == 1:
        body = with_key(canonical, key)
    else:
        data = pydantic_core.from_json(canonical)
        if fmt == "compact":
            data = compact.compact(data, columns.VERSION)
        else:
            full_size(data, len(canonical), cap)
            data = compact.expand(data)
        data["trace_key"] = key
        body = encode(data)
    if len(body) > cap:
        raise TooLarge(len(body), cap)
    return body
