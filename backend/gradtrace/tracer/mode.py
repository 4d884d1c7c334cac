"""The TorchFunctionMode that sees each torch call the user's code makes, dispatching on a table of small handlers."""
import torch
from torch.overrides import TorchFunctionMode

from . import backward
from .ops import QUIET, is_inplace, op_name, tensors_in
from .programs import call_context, program_line

_SCALARS = {torch.Tensor.item, torch.Tensor.__float__}
_BACKWARD = {torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad}
_UPDATES_BUFFERS = {"batch_norm", "instance_norm"}  # ops that update running statistics they are given
_SHOWN_GETS = ("data.get", "grad.get", "T.get", "mT.get", "H.get", "real.get", "imag.get")


def _args_tensors(args, kwargs) -> list:
    """tensors_in(list(args) + list(kwargs.values())), without building that list."""
    if len(args) + len(kwargs) > 1000:
        return tensors_in(list(args) + list(kwargs.values()))
    out = []
    for v in args:
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple, dict)):
            tensors_in(v, out, 1)
    if kwargs:
        for v in kwargs.values():
            if isinstance(v, torch.Tensor):
                out.append(v)
            elif isinstance(v, (list, tuple, dict)):
                tensors_in(v, out, 1)
    return out


# --- handlers: (rec, func, name, args, kwargs) -> the call's result ---
def _plain(rec, func, name, args, kwargs):
    return func(*args, **kwargs)


def _backward(rec, func, name, args, kwargs):
    return backward.run_pass(rec, func, args, kwargs)


def _scalar(rec, func, name, args, kwargs):
    out = func(*args, **kwargs)
    if rec.loops is not None and rec.loops.active is not None:
        rec.loops.on_item(out)
    return out


def _register_hook(rec, func, name, args, kwargs):
    out = func(args[0], backward.wrap_hook(rec, args[0], args[1]))
    rec.record("register_hook", [args[0]], [], kind="hook")
    return out


def _grad_set(rec, func, name, args, kwargs):
    out = func(*args, **kwargs)
    rec.set_grad(args[0], args[1] if len(args) > 1 else None)
    return out


def _grad_get(rec, func, name, args, kwargs):
    if call_context()[1] == "init":  # parameter initialisation inside nn.Module constructors: not the lesson
        return func(*args, **kwargs)
    out = func(*args, **kwargs)
    if isinstance(out, torch.Tensor):
        rec.reg.note_grad(args[0], out)
    return out


def _data_get(rec, func, name, args, kwargs):
    if call_context()[1] == "init":
        return func(*args, **kwargs)
    out = func(*args, **kwargs)
    rec.alias_of[id(out)] = (out, args[0])
    rec.defer("data", [args[0]], out)
    return out


def _data_set(rec, func, name, args, kwargs):
    out = func(*args, **kwargs)
    rec.dirty.add(id(args[0]))  # `w.data = …` swaps w's memory without a version bump: read w afresh next time
    return out


def _requires_grad_set(rec, func, name, args, kwargs):
    line, within = call_context()
    out = func(*args, **kwargs)
    if within != "init":
        inputs = _args_tensors(args, kwargs)
        rec.record("requires_grad_", inputs[:1], inputs[:1], kind="inplace")
    return out


def _op(rec, func, name, args, kwargs):
    line, within = call_context(3)  # above this handler and Mode.__torch_function__
    if within == "init" or (within == "optim" and rec.optim_depth):
        return func(*args, **kwargs)
    out = func(*args, **kwargs)
    if name in _UPDATES_BUFFERS:  # BatchNorm's running stats change in place, with no version bump
        rec.dirty.update(id(t) for t in _args_tensors(args, kwargs)[1:] if not t.requires_grad)
    outputs = tensors_in(out)
    if outputs:
        rec.record(name, _args_tensors(args, kwargs), outputs, kind="optim" if within == "optim" else "op", line=line)
    return out


def _inplace(rec, func, name, args, kwargs):
    line, within = call_context(3)
    if within == "init" or (within == "optim" and rec.optim_depth):
        return func(*args, **kwargs)
    out = func(*args, **kwargs)
    inputs = _args_tensors(args, kwargs)
    outputs = tensors_in(out) or inputs[:1]
    known = rec.reg.known
    # writing into a view changes its base too (and gives it a CopySlices node)
    bases = [t._base for t in outputs if t._base is not None and known(t._base) is not None]
    # `w.data -= …` changes w itself: show the new value on w, not only on the alias
    bases += [b for b in map(rec.alias_base, outputs) if b is not None and known(b) is not None]
    outputs = outputs + [b for b in bases if all(b is not o for o in outputs)]
    if outputs:
        rec.record(name, inputs, outputs, kind="optim" if within == "optim" else "inplace", line=line)
    return out


def _retain_grad(rec, func, name, args, kwargs):
    line, within = call_context()
    if within == "init" or (within == "optim" and rec.optim_depth):
        return func(*args, **kwargs)
    out = func(*args, **kwargs)
    rec.record(name, _args_tensors(args, kwargs), [], kind="optim" if within == "optim" else "annotate", line=line)
    return out


def _classify(func) -> tuple:
    """(handler, op name, whether a skipped call counts as an omitted forward step) for one torch callable."""
    if any(func is f for f in _BACKWARD):
        return _backward, "backward", False
    name = op_name(func)
    if any(func is f for f in _SCALARS):
        return _scalar, name, False
    if func is torch.Tensor.register_hook:
        return _register_hook, name, True
    quiet = name in QUIET or name.endswith((".get", ".set"))
    if name in QUIET or name.endswith(".get") and name not in _SHOWN_GETS:
        return _plain, name, not quiet
    if name == "grad.set":
        return _grad_set, name, False
    if name == "grad.get":
        return _grad_get, name, False
    if name == "data.get":
        return _data_get, name, False
    if name == "data.set":
        return _data_set, name, False
    if name == "requires_grad.set":
        return _requires_grad_set, name, False
    if name.endswith(".set"):
        return _plain, name, False
    if name == "retain_grad":
        return _retain_grad, name, True
    return (_inplace if is_inplace(name) else _op), name, not quiet


class Mode(TorchFunctionMode):
    """Sees each torch call the user's code makes (the mode is off inside its own handler)."""

    def __init__(self, rec):
        super().__init__()
        self.rec = rec
        self.handlers: dict = {}  # func -> _classify(func), for this run

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        rec = self.rec
        if rec.quiet:
            if func is torch.Tensor.register_hook:
                return func(args[0], backward.wrap_hook(rec, args[0], args[1]))
            return func(*args, **kwargs)
        try:
            entry = self.handlers.get(func)
            if entry is None:
                entry = self.handlers[func] = _classify(func)
        except TypeError:  # an unhashable callable
            entry = _classify(func)
        handler, op, counted = entry
        if rec.skip_reason is not None:
            return _unrecorded(rec, func, args, kwargs, handler, counted)
        name = op  # notes.py reads `name` and `args` of this frame when torch warns inside a call
        return handler(rec, func, name, args, kwargs)


def _unrecorded(rec, func, args, kwargs, handler, counted: bool):
    """An op in a folded iteration or past a trace limit: it runs; only the loop's series and counts see it."""
    if handler is _op or handler is _plain:  # the common cases first (identity checks, no hashing)
        if counted:
            rec.count_omitted("forward_steps")
        return func(*args, **kwargs)
    if func in _BACKWARD:
        rec.count_omitted("backward_passes")
        if rec.loops is not None:
            roots = backward.roots_of(func, args, kwargs)
            rec.loops.on_backward(roots, program_line())
        with rec.muted():
            return func(*args, **kwargs)
    if func in _SCALARS:
        out = func(*args, **kwargs)
        if rec.loops is not None:
            rec.loops.on_item(out)
        return out
    if func is torch.Tensor.register_hook:  # the hook still runs; with no pass recorded it reports nothing
        return func(args[0], backward.wrap_hook(rec, args[0], args[1]))
    if counted:
        rec.count_omitted("forward_steps")
    return func(*args, **kwargs)
