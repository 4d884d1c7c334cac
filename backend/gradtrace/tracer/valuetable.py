"""Tensor values snapshotted while the program runs (one clone, or one summary), encoded in bulk at the end."""
import torch

from .functorch import unwrapped
from .values import _clean, _num, _plain, encode, encode_scalar

_EMPTY = {"values": None, "min": None, "max": None, "mean": None, "sum": None}


def _version(t):
    try:
        return t._version
    except (RuntimeError, AttributeError):  # inference tensors have no version counter
        return None


try:
    _is_wrapped = torch._C._functorch.is_functorch_wrapped_tensor
except AttributeError:  # a torch without functorch
    _is_wrapped = None


def _encode_wrapped(t, max_elements: int) -> dict:
    """A torch.func wrapper's values through its wrappers: inside vmap, every sample's, stacked (Values.vmap)."""
    try:
        with torch._C._DisableFuncTorch():  # plain reads of the unwrapped tensor, no transform in between
            inner = unwrapped(t)
            if inner is not None:
                plain, size = inner
                v = encode(plain.detach().clone(), max_elements)
                if v is not None:
                    return {**v, "vmap": size} if size is not None else v
    except (RuntimeError, TypeError, ValueError, NotImplementedError, AttributeError):
        pass
    return encode(t, max_elements) or {"shape": list(getattr(t, "shape", [])), **_EMPTY}


def _wrapped(t) -> bool:
    """A functorch (vmap/grad/jvp) wrapper: it can't be read once its transform has exited."""
    try:
        return bool(_is_wrapped(t))
    except (RuntimeError, AttributeError, TypeError):
        return False


_STRIDED = torch.strided


def _nest(flat: list, shape: tuple, start: int):
    """Nested lists of `shape` from `flat[start:]` (what `tolist()` would give)."""
    if not shape:
        return flat[start]
    if len(shape) == 1:
        return flat[start:start + shape[0]]
    step = 1
    for s in shape[1:]:
        step *= s
    return [_nest(flat, shape[1:], start + i * step) for i in range(shape[0])]


class ValueTable:
    """`snap(t)` → an integer ref now; `finish()` → one Values dict per ref, computed in a few bulk torch calls."""

    def __init__(self, max_elements: int):
        self.max_elements = max_elements
        self.items: list[tuple] = []  # ("small", copy) | ("big", shape, n, stats) | ("dict", Values, key)
        self.latest: dict[int, tuple] = {}  # id(tensor) -> (tensor, version, ref): an unchanged tensor is not copied twice
        self.scalars: dict[tuple, int] = {}  # (type, number) -> ref

    def snap(self, t, same_as=None, track: bool = False, fresh: bool = False) -> int | None:
        """A ref to `t`'s values as they are now. `track`: `t` is a traced tensor (kept alive), so an unchanged
        `t` is not copied again; `same_as`: the traced tensor `t` is the same view of (reuse its snapshot);
        `fresh`: copy even so (a write through a `.data` alias changes a tensor without bumping its version)."""
        if not isinstance(t, torch.Tensor):
            return None
        try:
            version = t._version
        except (RuntimeError, AttributeError):  # inference tensors have no version counter
            version = None
        if version is not None:
            if not fresh:
                owner = t if same_as is None else same_as
                seen = self.latest.get(id(owner))
                if seen is not None and seen[0] is owner and seen[1] == version:
                    return seen[2]
            ref = self._add(t)
            if track:
                self.latest[id(t)] = (t, version, ref)
            return ref
        return self._add(t)

    def scalar(self, x) -> int | None:
        """A ref to a plain number's Values; equal ints or floats share one ref (not ±0.0 or NaN: they differ)."""
        cacheable = type(x) is int or (type(x) is float and x == x and x != 0.0)
        if cacheable:
            ref = self.scalars.get((type(x), x))
            if ref is not None:
                return ref
        v = encode_scalar(x)
        if v is None:
            return None
        ref = self.put(v, ("scalar", type(v["values"]), v["values"]))
        if cacheable:
            self.scalars[(type(x), x)] = ref
        return ref

    def put(self, values: dict, key=None) -> int:
        """A ready Values; `key`: hashable content, so that equal ones share a table entry cheaply."""
        self.items.append(("dict", values, key))
        return len(self.items) - 1

    def _add(self, t) -> int:
        if _wrapped(t):  # read it now, inside its transform (a copy made here would escape it)
            return self.put(_encode_wrapped(t, self.max_elements))
        if t.is_complex():  # real and imaginary parts
            return self.put(encode(t, self.max_elements) or {"shape": list(getattr(t, "shape", [])), **_EMPTY})
        try:
            # _plain(t), inlined for the common dense real tensor
            p = t.detach() if type(t) is torch.Tensor and t.layout is _STRIDED and not t.is_complex() else _plain(t)
            n = p.numel()
            if n <= self.max_elements:
                self.items.append(("small", p.to(torch.uint8) if p.dtype is torch.bool else p.clone()))
            else:
                d = p.to(torch.float64)
                lo, hi = torch.aminmax(d)
                self.items.append(("big", tuple(p.shape), n, torch.stack((lo, hi, d.sum()))))
        except (RuntimeError, TypeError, ValueError, NotImplementedError):
            # Meta, quantized or otherwise unreadable tensors: shape only.
            self.items.append(("dict", {"shape": list(getattr(t, "shape", [])), **_EMPTY}, None))
        return len(self.items) - 1

    def finish(self) -> tuple[list[dict], list]:
        """(Values per ref, a hashable content key per ref for sharing identical entries)."""
        out: list = [None] * len(self.items)
        keys: list = [None] * len(self.items)
        small: dict[torch.dtype, list[int]] = {}
        big: list[int] = []
        scalars: dict[torch.dtype, list[int]] = {}
        for i, item in enumerate(self.items):
            if item[0] == "small":
                (scalars if item[1].dim() == 0 else small).setdefault(item[1].dtype, []).append(i)
            elif item[0] == "big":
                big.append(i)
            else:
                out[i], keys[i] = item[1], item[2]
        for refs in small.values():
            self._finish_small(refs, out, keys)
        for refs in scalars.values():
            self._finish_scalars(refs, out, keys)
        if big:
            stats = torch.stack([self.items[i][3] for i in big]).tolist()
            for i, (lo, hi, total) in zip(big, stats):
                _, shape, n, _ = self.items[i]
                out[i] = {"shape": list(shape), "values": None, "min": _num(lo), "max": _num(hi),
                          "mean": _num(total / n), "sum": _num(total)}
        self.items, self.latest, self.scalars = [], {}, {}
        return out, keys

    def _finish_scalars(self, refs: list[int], out: list, keys: list) -> None:
        """0-d snapshots of one dtype: one stack, and what _finish_small computes for them, in plain Python."""
        copies = [self.items[i][1] for i in refs]
        dtype = copies[0].dtype
        floating = copies[0].is_floating_point()
        for i, v in zip(refs, torch.stack(copies).tolist()):
            total = float(v) + 0.0  # summed in float64 from +0.0, as index_add_ does: -0.0 gives 0.0
            if floating and v - v != 0:  # NaN or an infinity
                num = _num(v)
                out[i] = {"shape": [], "values": num, "min": num, "max": num, "mean": _num(total), "sum": _num(total)}
            else:
                out[i] = {"shape": [], "values": v, "min": float(v), "max": float(v), "mean": total, "sum": total}
                keys[i] = ((), v, dtype)

    def _finish_small(self, refs: list[int], out: list, keys: list) -> None:
        copies = [self.items[i][1] for i in refs]
        counts = [c.numel() for c in copies]
        flat_t = torch.cat([c.reshape(-1) for c in copies])
        flat = flat_t.tolist()
        d = flat_t.to(torch.float64)
        seg = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts, dtype=torch.long))
        sums = torch.zeros(len(counts), dtype=torch.float64).index_add_(0, seg, d).tolist()
        mins = torch.zeros(len(counts), dtype=torch.float64).scatter_reduce_(0, seg, d, "amin", include_self=False).tolist()
        maxs = torch.zeros(len(counts), dtype=torch.float64).scatter_reduce_(0, seg, d, "amax", include_self=False).tolist()
        bad = set()
        if copies[0].is_floating_point():
            finite = torch.isfinite(d)
            if not bool(finite.all()):
                bad = set(seg[~finite].tolist())
                nan_segs = set(seg[torch.isnan(d)].tolist())
                for k in nan_segs:  # a NaN anywhere makes min and max NaN, as torch.aminmax does
                    mins[k] = maxs[k] = float("nan")
        dtype = flat_t.dtype
        start = 0
        for k, i in enumerate(refs):
            shape, n = tuple(copies[k].shape), counts[k]
            values = _nest(flat, shape, start)
            if k in bad:
                values = _clean(values)
            if n == 0:
                out[i] = {"shape": list(shape), "values": values, "min": None, "max": None, "mean": None, "sum": None}
            elif bad and k in bad:
                out[i] = {"shape": list(shape), "values": values, "min": _num(mins[k]), "max": _num(maxs[k]),
                          "mean": _num(sums[k] / n), "sum": _num(sums[k])}
            else:  # all finite: the statistics are plain floats
                total = sums[k]
                out[i] = {"shape": list(shape), "values": values, "min": mins[k], "max": maxs[k], "mean": total / n,
                          "sum": total}
                keys[i] = (shape, tuple(flat[start:start + n]) if n > 1 else flat[start], dtype)
            start += n
