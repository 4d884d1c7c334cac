"""Encode a tensor's contents as a spec `Values` object: whole when small, a summary when large."""
import math

import torch


def _num(x: float):
    """A JSON-safe number: NaN and infinities become the strings the spec names."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


def _clean(nested):
    if isinstance(nested, list):
        return [_clean(v) for v in nested]
    return _num(nested)


def _values(t: torch.Tensor):
    """Nested lists of numbers; the slow per-element clean-up only when a NaN or infinity is present."""
    if t.dtype == torch.bool:
        return t.to(torch.uint8).tolist()
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        return _clean(t.tolist())
    return t.tolist()


def _plain(t: torch.Tensor) -> torch.Tensor:
    """A dense, real, CPU copy that no user subclass or hook can intercept."""
    t = torch.Tensor._make_subclass(torch.Tensor, t.detach()) if type(t) is not torch.Tensor else t.detach()
    if t.is_complex():
        t = t.real
    if t.layout != torch.strided:
        t = t.to_dense()
    return t


def encode(t, max_elements: int) -> dict | None:
    """Values for `t`; None when `t` is not a readable tensor. A complex tensor: `values` and the statistics are its
    real part, `imag` the same for its imaginary part (value = values + i·imag, elementwise)."""
    if not isinstance(t, torch.Tensor):
        return None
    try:
        if t.is_complex():
            c = torch.Tensor._make_subclass(torch.Tensor, t.detach()) if type(t) is not torch.Tensor else t.detach()
            c = c.resolve_conj()
            real, imag = encode(c.real, max_elements), encode(c.imag, max_elements)
            return {**real, "imag": imag}
    except (RuntimeError, TypeError, ValueError, NotImplementedError):
        pass
    try:
        t = _plain(t)
        shape = list(t.shape)
        n = t.numel()
        values = _values(t) if n <= max_elements else None
        if n == 0:
            return {"shape": shape, "values": values, "min": None, "max": None, "mean": None, "sum": None}
        d = t.to(torch.float64)
        lo, hi = torch.aminmax(d)
        total = d.sum().item()
        return {"shape": shape, "values": values, "min": _num(lo.item()), "max": _num(hi.item()),
                "mean": _num(total / n), "sum": _num(total)}
    except (RuntimeError, TypeError, ValueError, NotImplementedError):
        # Meta, quantized or otherwise unreadable tensors: shape only.
        return {"shape": list(getattr(t, "shape", [])), "values": None, "min": None, "max": None, "mean": None, "sum": None}


def encode_scalar(x) -> dict | None:
    """Values for a plain Python number saved by a node (e.g. PowBackward0's exponent)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    v = _num(float(x) if isinstance(x, float) else x)
    num = v if not isinstance(v, str) else None
    return {"shape": [], "values": v, "min": num, "max": num, "mean": num, "sum": num}
