"""Values packed for compact version 2: float32 numbers as their shortest decimal, a float32 scalar as its number."""
import struct

import numpy as np

_F32 = struct.Struct("<f")
_STATS = ("values", "min", "max", "mean", "sum")


class NotFloat32(ValueError):
    """A number a reader's float32 rounding would change: the Values keeps its object form."""


def f32(x: float) -> float:
    """`x` rounded to float32 (what every reader does to a packed value's numbers)."""
    return _F32.unpack(_F32.pack(x))[0]


class Short:
    """Float32 numbers as the shortest decimal that reads back (through float64, then float32) to the same number."""

    def __init__(self):
        self.cache: dict[float, float] = {}

    def __call__(self, x):
        if isinstance(x, bool) or x is None or isinstance(x, str):
            return x
        if isinstance(x, int):
            if abs(x) <= 1 << 24:
                return x
            raise NotFloat32
        if isinstance(x, list):
            return [self(v) for v in x]
        if not isinstance(x, float):
            raise NotFloat32
        if x == 0.0:  # already short; and the cache would not tell -0.0 from 0.0
            return x
        out = self.cache.get(x)
        if out is None:
            try:
                if f32(x) != x:
                    raise NotFloat32
            except OverflowError:
                raise NotFloat32 from None
            short = float(str(np.float32(x)))
            out = self.cache[x] = short if f32(short) == x else x
        return out


def _scalar(v: dict) -> bool:
    x = v["values"]
    return v["shape"] == [] and x is not None and not isinstance(x, list) and \
        all(type(v[k]) is type(x) and repr(v[k]) == repr(x) for k in _STATS[1:])


def pack_values(v, short: Short):
    """A Values → a bare number (float32 scalar), [shape, values, min, max, mean, sum] (float32) or itself."""
    if not isinstance(v, dict) or len(v) != 6 or any(k not in v for k in ("shape", *_STATS)):
        return v
    try:
        if _scalar(v):
            return short(v["values"])
        return [v["shape"], *(short(v[k]) for k in _STATS)]
    except NotFloat32:
        return v


def _round(x):
    if isinstance(x, float):
        return f32(x)
    if isinstance(x, list):
        return [_round(e) for e in x]
    return x


def unpack_values(e):
    """A value_table entry (any of the three forms) → its Values."""
    if isinstance(e, dict):
        return e
    if isinstance(e, list):
        return {"shape": list(e[0]), **{k: _round(x) for k, x in zip(_STATS, e[1:])}}
    x = _round(e)
    return {"shape": [], **{k: x for k in _STATS}}
