"""The run's recorder: forward steps (reported by mode.py and patches.py), plus the shared state of one trace."""
import contextlib

import torch

from .functorch import active as active_transform
from .limits import Limits
from .ops import tensors_in
from .programs import PROGRAM, program_line  # noqa: F401 - PROGRAM re-exported
from .module_paths import ModulePaths
from .registry import Registry

def _grad_fn(t):
    """`t.grad_fn`, or None where reading it throws: an optimizer's no_grad `view_as_real` of a complex parameter,
    written in place under no_grad, refuses the read (torch's program never reads it)."""
    try:
        return t.grad_fn
    except RuntimeError:
        return None


class Recorder:
    """Everything one trace collects while the program runs."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.reg = Registry(limits)
        self.reg.on_new_tensor = self._emit_pending
        self.reg.on_limit = self.degrade
        self.steps: list[dict] = []
        self.passes: list[dict] = []
        self.quiet = 0  # >0 inside backward and custom forwards: their inner ops are not steps
        self.pending_sources: dict[int, tuple] = {}
        self.module_stack: list[str] = []
        self.backward_steps = 0
        self.active_pass: dict | None = None
        self.module_names: dict[int, tuple] = {}
        self.paths = ModulePaths(self.reg)  # names from the module tree
        self.pending_hooks: list[dict] = []
        self.versions: dict[str, int] = {}  # tensor id -> `_version` when a step last saw it
        self.alias_of: dict[int, tuple] = {}  # id(x.data result) -> (that result, x): it shares x's memory
        self.module_objs: dict[str, object] = {}
        self.module_paths: dict[int, dict] = {}  # id(module) -> {id(descendant): its named_modules() path}
        self.module_tree: dict[str, dict] = {}
        self.bookkeeping: str | None = None  # "clip_grad_norm", "zero_grad", "scheduler": inside such a call  # module path -> {path, class, parent, params, shape, calls}
        self.skip_reason: str | None = None  # "loop" (a folded iteration) or "limit": ops run, unrecorded
        self.iteration: dict | None = None  # {"loop", "index"} of the recorded iteration steps belong to
        self.loops = None  # the run's loop tracker (loops.Loops), set by run.trace
        self.omitted = {"forward_steps": 0, "backward_passes": 0, "nodes": 0}
        self.omitted_reason: str | None = None
        # What the trace last showed of each tensor's value: tensor id -> (value ref, epoch). A step that reads a tensor
        # the trace has no current value of (a parameter first seen, one changed by an optimizer kernel, init, a
        # `.data` write or a folded iteration) carries its value (ForwardStep.data_changes).
        self.shown: dict[str, tuple] = {}
        self.epoch = 0  # raised when values may have changed unseen (a folded stretch): each tensor is read afresh
        self.dirty: set[int] = set()  # id() of tensors written without a version bump (`x.data = …`, BatchNorm stats)
        self.optim_depth = 0  # >0 inside optimizer.step(): its internal ops are not steps (patches.py records updates)

    @contextlib.contextmanager
    def muted(self):
        """The tracer's own torch calls (snapshots, norms) and internal stretches: never steps."""
        self.quiet += 1
        try:
            yield
        finally:
            self.quiet -= 1

    @property
    def silent(self) -> bool:
        """Nothing is recorded now: inside backward or a custom forward, or in a folded/degraded stretch."""
        return bool(self.quiet) or self.skip_reason is not None

    def degrade(self, reason: str) -> None:
        """A trace limit was reached: the program runs on, recording stops and says so."""
        if self.omitted_reason is None:
            self.omitted_reason = reason
        self.skip_reason = "limit"

    def count_omitted(self, what: str) -> None:
        loop = self.loops.active if self.loops is not None else None
        if self.skip_reason == "loop" and loop is not None:
            loop.omitted[what] += 1
        else:
            self.omitted[what] += 1

    # --- forward steps ---
    def record(self, op: str, inputs, outputs, kind: str = "op", line: int | None = None) -> dict | None:
        if len(self.steps) >= self.limits.max_steps:
            self.degrade(f"the program ran more than {self.limits.max_steps} tensor operations")
        elif len(self.reg.node_list) >= self.limits.max_nodes:
            self.degrade(f"the autograd graph has more than {self.limits.max_nodes} nodes")
        if self.skip_reason is not None and kind != "alias":
            self.count_omitted("forward_steps")
            return None
        # Also called outside the mode's handler (bind, Function.apply, Variable): our own reads are never steps.
        self.quiet += 1  # what muted() does, without a generator per op
        try:
            return self._record(op, inputs, outputs, kind, program_line() if line is None else line)
        finally:
            self.quiet -= 1

    def _record(self, op: str, inputs, outputs, kind: str, line: int | None) -> dict:
        if op.endswith(".get"):  # a property such as `W.T` (seen as "T.get")
            op = op[:-len(".get")]
        reg = self.reg
        tensor, nodes, node_list = reg.tensor, reg.nodes, reg.node_list
        in_ids = [tensor(t, line) for t in inputs]
        out_ids = [tensor(t, line) for t in outputs]
        # An in-place op gives its input a new grad_fn: it is this step's node even once registered as an input's.
        fresh = None
        for t in outputs:
            fn = _grad_fn(t)
            if fn is not None and id(fn) not in nodes:
                fresh = fresh or set()
                fresh.add(id(fn))
        for t in inputs:
            fn = _grad_fn(t)
            if fn is not None:
                r = nodes.get(id(fn))
                if r is None or r["tensor"] is None:  # otherwise registering it again changes nothing
                    reg.node(fn, None, t)
        first_new = len(node_list)
        node = None
        enabled = torch.is_grad_enabled()
        for t in outputs:
            fn = _grad_fn(t)
            if fn is not None:
                # Only a grad_fn this step created is its node: `d.mul_(2)` under no_grad (or an op that
                # returns its input) leaves d's old grad_fn in place, and autograd recorded nothing.
                nid = reg.node(fn, line, t)
                if fresh is not None and enabled and id(fn) in fresh:
                    node = node or nid
        if len(node_list) > first_new:
            for r in node_list[first_new:]:
                if r["line"] is None and r["kind"] == "op":  # nodes inside one call, e.g. linear's TBackward0
                    r["line"] = line
        snap, fresh_values = reg.values.snap, kind != "op"
        values = [snap(t, track=True, fresh=fresh_values) for t in outputs]
        step = {
            "op": op, "inputs": in_ids, "outputs": out_ids, "node": node,
            "grad_enabled": enabled, "line": line,
            "values": values,
            "kind": kind, "module": self.module_stack[-1] if self.module_stack else None,
        }
        changes = self._data_changes(in_ids, inputs, out_ids, values)
        if changes:
            step["data_changes"] = changes
        if self.iteration is not None:
            step["iteration"] = self.iteration
        if self.bookkeeping is not None:
            step["bookkeeping"] = self.bookkeeping
        transform = active_transform()
        if transform is not None:  # inside torch.func.vmap/grad: values are per sample (Values.vmap), no .grad filled
            step["transform"] = transform
        writes = kind == "inplace" or kind == "optim"
        grads = self._grad_changes(outputs) if writes else None
        if grads:
            step["grad_changes"] = grads
        bumps = self._bumps(out_ids, outputs, self._bumps(in_ids, inputs, None))
        if bumps and writes:
            step["bumps"] = bumps
        self.steps.append(step)
        return step

    def _data_changes(self, in_ids, inputs, out_ids, values) -> dict | None:
        """Inputs whose value the trace does not show yet (first seen, or changed unseen), as they are now; notes the
        outputs' new values. Inputs the step writes are its outputs: their value is in `values`."""
        shown, epoch, dirty = self.shown, self.epoch, self.dirty
        for tid, ref in zip(out_ids, values):
            shown[tid] = (ref, epoch)
        changes = None
        snap = self.reg.values.snap
        for tid, t in zip(in_ids, inputs):
            if tid in out_ids:
                continue
            seen = shown.get(tid)
            fresh = seen is None or seen[1] != epoch or (bool(dirty) and id(t) in dirty)
            ref = snap(t, track=True, fresh=fresh)
            if fresh:
                dirty.discard(id(t))
            if seen is None or seen[0] != ref:
                shown[tid] = (ref, epoch)
                changes = changes or {}
                changes[tid] = ref
        return changes

    def _bumps(self, ids, tensors, out: list | None) -> list[str] | None:
        """Tensors whose `_version` went up since the trace last saw them (an in-place write); inputs first."""
        versions = self.versions
        for tid, t in zip(ids, tensors):
            try:
                v = t._version
            except (RuntimeError, AttributeError):  # inference tensors have no version counter
                continue
            seen = versions.get(tid)
            if seen is not None and v > seen:
                out = out or []
                if tid not in out:
                    out.append(tid)
            versions[tid] = v
        return out

    def _grad_changes(self, outputs) -> dict:
        """When a step writes into some tensor's `.grad` (e.g. `x.grad.zero_()`), the owner's new grad."""
        changes = {}
        for t in outputs:
            for g in (t, self.alias_base(t)):  # `w.grad.data.zero_()` writes into w.grad too
                owner = self.reg.grad_owner.get(id(g)) if g is not None else None
                if owner is not None and owner[0].grad is g:
                    changes[self.reg.tensor(owner[0])] = self.reg.values.snap(g)
        return changes

    def alias_base(self, t) -> torch.Tensor | None:
        """The tensor whose `.data` `t` is, if any."""
        entry = self.alias_of.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def defer(self, op: str, inputs, out: torch.Tensor) -> None:
        """A step worth showing only if its result is used later (e.g. `x.data`)."""
        if self.reg.known(out) is None:
            # The value as it is now: by the time the alias is first used, an in-place op may have changed it.
            snapshot = self.reg.values.snap(out)
            self.pending_sources[id(out)] = (op, list(inputs), out, program_line(), torch.is_grad_enabled(), snapshot)

    def _emit_pending(self, t) -> None:
        pending = self.pending_sources.pop(id(t), None)
        if pending is not None:
            op, inputs, out, line, enabled, snapshot = pending
            with torch.set_grad_enabled(enabled):
                step = self.record(op, inputs, [out], kind="alias", line=line)
            if step is not None:
                step["values"] = [snapshot]
                self.shown[step["outputs"][0]] = (snapshot, self.epoch)  # older than now: the next read shows the change

    def bind(self, *pairs) -> None:
        """Called by the instrumented program after each assignment."""
        if self.silent:
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
                self.paths.bound(value, name)

    def set_grad(self, owner: torch.Tensor, value) -> None:
        """`x.grad = …` replaces (or clears) a gradient: a step so the page can show the reset."""
        step = self.record("grad.set", [owner] + tensors_in(value), [], kind="grad")
        if step is not None:
            step["grad_changes"] = {self.reg.tensor(owner): self.reg.values.snap(owner.grad)}
