"""Folded iterations at nearly plain speed: the recorder's TorchFunctionMode leaves the mode stack while a folded
stretch runs (every torch call under a Python mode pays a Python round trip), and the few calls the loop's series
needs (`.item()`, `float()`, backward calls) are seen through temporary patches instead."""
import torch
from torch.overrides import _get_current_function_mode, _pop_mode, _push_mode

from .ops import tensors_in
from .programs import program_line


class FastFold:
    """`pause()` when a folded iteration begins, `resume()` before anything is recorded again."""

    def __init__(self, rec):
        self.rec = rec
        self.mode = None  # the recorder's mode while it is off the stack
        self.undo: list[tuple] = []
        self.inside = False  # in a backward call already counted (Tensor.backward calls autograd.backward)

    @property
    def paused(self) -> bool:
        return self.mode is not None

    def pause(self) -> None:
        if self.mode is not None:
            return
        top = _get_current_function_mode()
        if getattr(top, "rec", None) is not self.rec:  # not ours on top (a program's own mode): stay on the slow path
            return
        self.mode = _pop_mode()
        for name in ("item", "__float__"):
            self._patch(torch.Tensor, name, self._scalar(getattr(torch.Tensor, name)))
        self._patch(torch.Tensor, "backward", self._backward(torch.Tensor.backward, "self"))
        self._patch(torch.autograd, "backward", self._backward(torch.autograd.backward, "tensors"))
        self._patch(torch.autograd, "grad", self._backward(torch.autograd.grad, "outputs"))

    def resume(self) -> None:
        if self.mode is None:
            return
        for owner, name, had, old in reversed(self.undo):
            if had:
                setattr(owner, name, old)
            else:
                delattr(owner, name)
        self.undo = []
        self.rec.epoch += 1  # the folded stretch may have changed any tensor unseen (a `.data` write bumps no version)
        _push_mode(self.mode)
        self.mode = None

    def _patch(self, owner, name, new) -> None:
        had = name in vars(owner)
        self.undo.append((owner, name, had, vars(owner)[name] if had else None))
        setattr(owner, name, new)

    def _scalar(self, original):
        loops = self.rec.loops

        fold = self

        def scalar(t, *args, **kwargs):
            out = original(t, *args, **kwargs)
            if not fold.inside:  # not the tracer's own reads, nor torch's inside a backward call
                loops.on_item(out)
            return out

        return scalar

    def _backward(self, original, first: str):
        rec, fold = self.rec, self

        def call(*args, **kwargs):
            if fold.inside:
                return original(*args, **kwargs)
            fold.inside = True
            try:
                rec.count_omitted("backward_passes")
                roots = tensors_in(args[0] if args else kwargs.get(first))  # self / tensors / outputs: the roots
                rec.loops.on_backward(roots, program_line())
                return original(*args, **kwargs)
            finally:
                fold.inside = False

        return call

