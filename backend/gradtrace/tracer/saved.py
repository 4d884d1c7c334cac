"""Snapshot what an autograd node saved for backward, before backward frees it."""
import torch

from .values import encode, encode_scalar

_MAX_SAVED = 16  # a node rarely saves more; a list-valued attribute could be huge


def _entry(name: str, value, registry) -> dict | None:
    if isinstance(value, torch.Tensor):
        return {"name": name, "values": encode(value, registry.limits.max_tensor_elements),
                "tensor": registry.match_saved(value), "version": value._version}  # _version when saved: in-place errors compare it
    scalar = encode_scalar(value)
    if scalar is not None:
        return {"name": name, "values": scalar, "tensor": None}
    if value is None:
        return None
    text = repr(value) if isinstance(value, (bool, tuple, list, str, torch.dtype, torch.Size)) else type(value).__name__
    return {"name": name, "values": None, "tensor": None, "repr": text[:200]}


def _items(fn, kind: str):
    """(name, value) pairs the node holds for backward."""
    if kind == "custom":
        try:
            tensors = fn.saved_tensors
        except RuntimeError:
            tensors = ()
        for i, t in enumerate(tensors):
            yield f"saved_tensors[{i}]", t
        # ctx attributes (ctx.x = x) live in the instance dict; never call user descriptors.
        for key, value in list(vars(fn).items())[:_MAX_SAVED]:
            if not key.startswith("_"):
                yield f"ctx.{key}", value
        return
    for attr in dir(fn):
        if attr.startswith("_saved_"):
            try:
                value = getattr(fn, attr)
            except RuntimeError:  # already freed by an earlier backward
                continue
            yield attr[len("_saved_"):], value


def snapshot_saved(fn, kind: str, registry) -> list[dict]:
    out = []
    if kind == "accumulate":
        return out
    for name, value in _items(fn, kind):
        if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
            entries = [_entry(f"{name}[{i}]", v, registry) for i, v in enumerate(value[:_MAX_SAVED])]
        else:
            entries = [_entry(name, value, registry)]
        out.extend(e for e in entries if e is not None)
        if len(out) >= _MAX_SAVED:
            break
    return out
