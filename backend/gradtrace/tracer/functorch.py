"""torch.func transforms as the trace shows them: which transforms a step runs inside (`vmap(grad)`), and the values
of a wrapped tensor read through its wrappers (a vmap's per-sample values stacked on a first dimension)."""
import torch
from torch._C import _functorch as _F

try:
    from torch._functorch.pyfunctorch import retrieve_all_functorch_interpreters as _interpreters
except ImportError:  # an older torch: steps are not tagged
    _interpreters = None

_NAMES = {"Vmap": "vmap", "Grad": "grad", "Jvp": "jvp", "Functionalize": "functionalize"}


def active() -> str | None:
    """"vmap(grad)" for a step inside `vmap(grad(f))`, outermost first; None outside every transform."""
    if _F.maybe_current_level() is None or _interpreters is None:
        return None
    names = [_NAMES.get(i.key().name, i.key().name.lower()) for i in _interpreters()]
    return "(".join(names) + ")" * (len(names) - 1) if names else None


def unwrapped(t: torch.Tensor) -> tuple[torch.Tensor, int | None] | None:
    """(the plain tensor under `t`'s functorch wrappers, vmap size) with one vmap's samples moved to dimension 0;
    None when it can't be read (several vmap levels, or a wrapper of another kind)."""
    bdims = []
    while _F.is_functorch_wrapped_tensor(t):
        if _F.is_batchedtensor(t):
            bdims.append(_F.maybe_get_bdim(t))
        elif not _F.is_gradtrackingtensor(t):
            return None
        t = _F.get_unwrapped(t)
    if len(bdims) > 1:
        return None
    if bdims:
        return t.movedim(bdims[0], 0), t.shape[bdims[0]]
    return t, None
