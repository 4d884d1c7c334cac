"""The run's recorder: forward steps from a TorchFunctionMode, plus the shared state of one trace."""
import sys

import torch
from torch.overrides import TorchFunctionMode

from . import backward
from .limits import Abort, Limits
from .ops import QUIET, is_inplace, op_name, tensors_in
from .registry import Registry
from .values import encode

PROGRAM = "<program>"


def program_line() -> int | None:
    """Line of the innermost frame that runs the user's code."""
    return call_context()[0]


def call_context() -> tuple[int | None, str | None]:
    """(line of the user's code, "init" | "optim" | None): which library code sits between it and this call."""
    f, within = sys._getframe(1), None
    while f is not None:
        name = f.f_code.co_filename
        if name == PROGRAM:
            return f.f_lineno, within
        if within is None:
            code = f.f_code.co_name
            if name.endswith(_INIT_FILES) or code == "reset_parameters" or (code == "__init__" and _NN_DIR in name):
                within = "init"
            elif _OPTIM_DIR in name:
                within = "optim"
        f = f.f_back
    return None, within


_INIT_FILES = ("torch/nn/init.py",)
_OPTIM_DIR = "torch/optim/"
_NN_DIR = "torch/nn/modules/"


class Recorder:
    """Everything one trace collects while the program runs."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.reg = Registry(limits)
        self.reg.on_new_tensor = self._emit_pending
        self.steps: list[dict] = []
        self.passes: list[dict] = []
        self.quiet = 0  # >0 inside backward and custom forwards: their inner ops are not steps
        self.pending_sources: dict[int, tuple] = {}
        self.module_stack: list[str] = []
        self.backward_steps = 0
        self.active_pass: dict | None = None
        self.module_names: dict[int, tuple] = {}
        self.pending_hooks: list[dict] = []
        self.versions: dict[str, int] = {}  # tensor id -> `_version` when a step last saw it
        self.alias_of: dict[int, tuple] = {}  # id(x.data result) -> (that result, x): it shares x's memory

    # --- forward steps ---
    def record(self, op: str, inputs, outputs, kind: str = "op", line: int | None = None) -> dict | None:
        if len(self.steps) >= self.limits.max_steps:
            raise Abort("limit", f"the program ran more than {self.limits.max_steps} tensor operations")
        # Also called outside the mode's handler (bind, Function.apply, Variable): our own reads are never steps.
        self.quiet += 1
        try:
            return self._record(op, inputs, outputs, kind, program_line() if line is None else line)
        finally:
            self.quiet -= 1

    def _record(self, op: str, inputs, outputs, kind: str, line: int | None) -> dict:
        if op.endswith(".get"):  # a property such as `W.T` (seen as "T.get")
            op = op[:-len(".get")]
        in_ids = [self.reg.tensor(t, line) for t in inputs]
        out_ids = [self.reg.tensor(t, line) for t in outputs]
        # An in-place op gives its input a new grad_fn: it is this step's node even once registered as an input's.
        fresh = {id(t.grad_fn) for t in outputs if t.grad_fn is not None and self.reg.node_id(t.grad_fn) is None}
        for t in inputs:
            if t.grad_fn is not None:
                self.reg.node(t.grad_fn, None, t)
        first_new = len(self.reg.node_list)
        node = None
        for t in outputs:
            fn = t.grad_fn
            if fn is not None:
                # Only a grad_fn this step created is its node: `d.mul_(2)` under no_grad (or an op that
                # returns its input) leaves d's old grad_fn in place, and autograd recorded nothing.
                new = id(fn) in fresh
                nid = self.reg.node(fn, line, t)
                if new and torch.is_grad_enabled():
                    node = node or nid
        for r in self.reg.node_list[first_new:]:
            if r["line"] is None and r["kind"] == "op":  # nodes inside one call, e.g. linear's TBackward0
                r["line"] = line
        step = {
            "op": op, "inputs": in_ids, "outputs": out_ids, "node": node,
            "grad_enabled": torch.is_grad_enabled(), "line": line,
            "values": [encode(t, self.limits.max_tensor_elements) for t in outputs],
            "kind": kind, "module": self.module_stack[-1] if self.module_stack else None,
        }
        grads = self._grad_changes(outputs) if kind in ("inplace", "optim") else None
        if grads:
            step["grad_changes"] = grads
        bumps = self._bumps(in_ids + out_ids, list(inputs) + list(outputs))
        if bumps and kind in ("inplace", "optim"):
            step["bumps"] = bumps
        self.steps.append(step)
        return step

    def _bumps(self, ids, tensors) -> list[str]:
        """Tensors whose `_version` went up since the trace last saw them (an in-place write)."""
        out = []
        for tid, t in zip(ids, tensors):
            v, seen = t._version, self.versions.get(tid)
            if seen is not None and v > seen and tid not in out:
                out.append(tid)
            self.versions[tid] = v
        return out

    def _grad_changes(self, outputs) -> dict:
        """When a step writes into some tensor's `.grad` (e.g. `x.grad.zero_()`), the owner's new grad."""
        changes = {}
        for t in outputs:
            for g in (t, self.alias_base(t)):  # `w.grad.data.zero_()` writes into w.grad too
                owner = self.reg.grad_owner.get(id(g)) if g is not None else None
                if owner is not None and owner[0].grad is g:
                    changes[self.reg.tensor(owner[0])] = encode(g, self.limits.max_tensor_elements)
        return changes

    def alias_base(self, t) -> torch.Tensor | None:
        """The tensor whose `.data` `t` is, if any."""
        entry = self.alias_of.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def defer(self, op: str, inputs, out: torch.Tensor) -> None:
        """A step worth showing only if its result is used later (e.g. `x.data`)."""
        if self.reg.known(out) is None:
            # The value as it is now: by the time the alias is first used, an in-place op may have changed it.
            snapshot = encode(out, self.limits.max_tensor_elements)
            self.pending_sources[id(out)] = (op, list(inputs), out, program_line(), torch.is_grad_enabled(), snapshot)

    def _emit_pending(self, t) -> None:
        pending = self.pending_sources.pop(id(t), None)
        if pending is not None:
            op, inputs, out, line, enabled, snapshot = pending
            with torch.set_grad_enabled(enabled):
                step = self.record(op, inputs, [out], kind="alias", line=line)
            step["values"] = [snapshot]

    def bind(self, *pairs) -> None:
        """Called by the instrumented program after each assignment."""
        if self.quiet:
            return
        for name, value in pairs:
            if isinstance(value, torch.Tensor):
                if self.reg.known(value) is None:
                    if id(value) in self.pending_sources:
                        self.reg.tensor(value)  # emits the deferred step (e.g. `y2 = y.data`)
                    elif id(value) in self.reg.grad_owner and self.reg.grad_owner[id(value)][1] is value:
                        self.record("grad", [self.reg.grad_owner[id(value)][0]], [value], kind="alias")  # g = a.grad
                    else:
                        self.record("tensor", [], [value], kind="source")
                self.reg.name(value, name)
            elif isinstance(value, torch.nn.Module):
                self.module_names.setdefault(id(value), (value, name))

    def set_grad(self, owner: torch.Tensor, value) -> None:
        """`x.grad = …` replaces (or clears) a gradient: a step so the page can show the reset."""
        step = self.record("grad.set", [owner] + tensors_in(value), [], kind="grad")
        step["grad_changes"] = {self.reg.tensor(owner): encode(owner.grad, self.limits.max_tensor_elements)}


class Mode(TorchFunctionMode):
    """Sees each torch call the user's code makes (the mode is off inside its own handler)."""

    def __init__(self, rec: Recorder):
        super().__init__()
        self.rec = rec

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        rec = self.rec
        if rec.quiet:
            if func is torch.Tensor.register_hook:
                return func(args[0], backward.wrap_hook(rec, args[0], args[1]))
            return func(*args, **kwargs)
        if func is torch.Tensor.backward or func is torch.autograd.backward or func is torch.autograd.grad:
            return backward.run_pass(rec, func, args, kwargs)
        name = op_name(func)
        if name in QUIET or name.endswith(".get") and name not in ("data.get", "grad.get", "T.get", "mT.get", "H.get", "real.get", "imag.get"):
            return func(*args, **kwargs)
        if func is torch.Tensor.register_hook:
            out = func(args[0], backward.wrap_hook(rec, args[0], args[1]))
            rec.record("register_hook", [args[0]], [], kind="hook")
            return out
        if name == "grad.set":
            out = func(*args, **kwargs)
            rec.set_grad(args[0], args[1] if len(args) > 1 else None)
            return out
        line, within = call_context()
        if within == "init":  # parameter initialisation inside nn.Module constructors: not the lesson
            return func(*args, **kwargs)
        out = func(*args, **kwargs)
        if name == "grad.get":
            if isinstance(out, torch.Tensor):
                rec.reg.note_grad(args[0], out)
            return out
        if name == "data.get":
            rec.alias_of[id(out)] = (out, args[0])
            rec.defer("data", [args[0]], out)
            return out
        inputs = tensors_in(list(args) + list(kwargs.values()))
        if name == "requires_grad.set":
            rec.record("requires_grad_", inputs[:1], inputs[:1], kind="inplace")
            return out
        if name.endswith(".set"):
            return out
        outputs = tensors_in(out)
        if is_inplace(name) or name in ("retain_grad",):
            outputs = outputs or inputs[:1]
            kind = "inplace" if name != "retain_grad" else "annotate"
            if kind == "inplace":  # writing into a view changes its base too (and gives it a CopySlices node)
                bases = [t._base for t in outputs if t._base is not None and rec.reg.known(t._base) is not None]
                # `w.data -= …` changes w itself: show the new value on w, not only on the alias
                bases += [b for b in map(rec.alias_base, outputs) if b is not None and rec.reg.known(b) is not None]
                outputs = outputs + [b for b in bases if all(b is not o for o in outputs)]
        else:
            kind = "op"
        if within == "optim":
            kind = "optim"
        if outputs or name in ("retain_grad",):
            rec.record(name, inputs, outputs if name != "retain_grad" else [], kind=kind, line=line)
        return out
