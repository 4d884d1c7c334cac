"""Snapshot what an autograd node saved for backward, before backward frees it."""
import torch

from .valuetable import _version


_SAVED_ATTRS: dict[type, list[str]] = {}
_MAX_SAVED = 16  # a node rarely saves more; a list-valued attribute could be huge


def _entry(name: str, value, registry) -> dict | None:
    if isinstance(value, torch.Tensor):
        tid = registry.match_saved(value)
        same = registry.tensor_obj(tid)
        return {"name": name, "values": registry.values.snap(value, same_as=same), "tensor": tid,
                "version": _version(value)}  # _version when saved: in-place errors compare it
    if type(value) is int and value >= 2**63:  # a negative dim the node keeps as uint64 (transpose(-2, -1) saves 2**64 - 2)
        value -= 2**64
    scalar = registry.values.scalar(value)
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
    names = _SAVED_ATTRS.get(type(fn))
    if names is None:  # dir() of a node is slow; each node class has a fixed set of saved attributes
        names = _SAVED_ATTRS[type(fn)] = [a for a in dir(fn) if a.startswith("_saved_")]
    for attr in names:
        try:
            value = getattr(fn, attr)
        except RuntimeError:  # already freed by an earlier backward
            continue
        yield attr[len("_saved_"):], value


def user_hooks_active() -> bool:
    """Inside `saved_tensors_hooks(pack, unpack)`: reading a saved tensor would run the user's unpack hook."""
    try:
        return torch._C._autograd._top_saved_tensors_default_hooks(False) is not None
    except (AttributeError, RuntimeError):
        return False


_PACKED = "packed by the program's saved_tensors_hooks: read only by backward, so its unpack hook runs once"


def _packed_names(fn) -> list[dict]:
    """The node's saved tensors by name, without unpacking them (their values stay unknown)."""
    names = _SAVED_ATTRS.get(type(fn)) or [a for a in dir(fn) if a.startswith("_saved_")]
    out = []
    for attr in names:
        raw = getattr(fn, "_raw" + attr, None)
        if raw is not None and not isinstance(raw, (tuple, list)):
            out.append({"name": attr[len("_saved_"):], "values": None, "tensor": None, "repr": _PACKED})
        elif isinstance(raw, (tuple, list)):
            out.extend({"name": f"{attr[len('_saved_'):]}[{i}]", "values": None, "tensor": None, "repr": _PACKED}
                       for i in range(min(len(raw), _MAX_SAVED)))
        if len(out) >= _MAX_SAVED:
            break
    return out


def snapshot_saved(fn, kind: str, registry, packing: bool | None = None) -> list[dict]:
    """`packing`: whether saved_tensors_hooks are active (the caller may know it for a whole walk)."""
    out = []
    if kind == "accumulate":
        return out
    if kind == "op" and (user_hooks_active() if packing is None else packing):
        return _packed_names(fn)
    for name, value in _items(fn, kind):
        if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
            entries = [_entry(f"{name}[{i}]", v, registry) for i, v in enumerate(value[:_MAX_SAVED])]
        else:
            entries = [_entry(name, value, registry)]
        out.extend(e for e in entries if e is not None)
        if len(out) >= _MAX_SAVED:
            break
    return out
