"""Temporary patches that make visible what TorchFunctionMode cannot see: custom Function.apply,
the legacy Variable wrapper, and which nn.Module a call happens in. All undone when the run ends."""
import contextlib
import functools
import inspect
import sys

import torch
import torch.autograd.function as autograd_function
import torch.autograd.variable as autograd_variable
from torch.nn.modules import module as nn_module

from .ops import tensors_in
from .programs import call_context, program_line


def _patch_apply(rec, stack: contextlib.ExitStack) -> None:
    original = autograd_function.Function.__dict__["apply"]

    def apply(cls, *args, **kwargs):
        if rec.silent:
            return original.__func__(cls, *args, **kwargs)
        with rec.muted():  # the forward's own ops are internal to this one step
            out = original.__func__(cls, *args, **kwargs)
        rec.record(cls.__name__, tensors_in(list(args) + list(kwargs.values())), tensors_in(out), kind="custom")
        return out

    autograd_function.Function.apply = classmethod(apply)
    stack.callback(setattr, autograd_function.Function, "apply", original)


def _patch_variable(rec, stack: contextlib.ExitStack) -> None:
    original = autograd_variable.Variable

    class _Meta(type):
        def __call__(cls, *args, **kwargs):
            out = original(*args, **kwargs)
            if not rec.silent:
                rec.record("Variable", tensors_in(list(args)), [out], kind="op")
            return out

        def __instancecheck__(cls, obj):
            return isinstance(obj, torch.Tensor)

    class Variable(metaclass=_Meta):
        """Legacy wrapper: returns a plain tensor, as torch's Variable does today."""

    for mod in (torch.autograd, autograd_variable):
        stack.callback(setattr, mod, "Variable", original)
        mod.Variable = Variable


def _module_name(rec, module) -> str:
    path = rec.paths.path(module)
    if path is not None:
        return path
    # Innermost running module first: its descendants by named_modules() path (a block called from a loop over
    # `self.h` is `model.h.0`, not a direct child), then the program's own name for it, then its class.
    for parent in reversed(rec.module_stack):
        owner = rec.module_objs.get(parent)
        if owner is None:
            continue
        paths = rec.module_paths.get(id(owner))
        if paths is None:
            paths = rec.module_paths[id(owner)] = {id(m): n for n, m in owner.named_modules() if n}
        rel = paths.get(id(module))
        if rel is not None:
            return f"{parent}.{rel}"
    known = rec.module_names.get(id(module))
    return known[1] if known else type(module).__name__


def _first_shape(out):
    for t in tensors_in(out):
        return list(t.shape)
    return None


def _patch_modules(rec, stack: contextlib.ExitStack) -> None:
    rec.module_objs = {}
    rec.module_paths = {}

    def pre(module, args):
        if rec.silent:
            return None
        rec.paths.entered(module)
        path = _module_name(rec, module)
        rec.module_objs[path] = module
        if rec.paths.path(module) is None:  # a module in no bound tree: named after its parent call or type
            for pname, param in module.named_parameters(recurse=False):
                rec.reg.name(param, f"{path}.{pname}")
            for bname, buf in module.named_buffers(recurse=False):  # BatchNorm's running stats
                rec.reg.name(buf, f"{path}.{bname}")
        if path not in rec.module_tree:  # the module tree (Trace.modules): first call of each path
            with rec.muted():
                params = sum(p.numel() for p in module.parameters())
            rec.module_tree[path] = {"path": path, "class": type(module).__name__, "parent": rec.module_stack[-1] if rec.module_stack else None,
                                     "params": params, "shape": None, "calls": 0}
        rec.module_tree[path]["calls"] += 1
        rec.module_stack.append(path)
        return None

    def post(module, args, output):
        if not rec.silent and rec.module_stack:
            path = rec.module_stack.pop()
            entry = rec.module_tree.get(path)
            if entry is not None and entry["shape"] is None:
                entry["shape"] = _first_shape(output)
        return None

    h1 = nn_module.register_module_forward_pre_hook(pre)
    h2 = nn_module.register_module_forward_hook(post, always_call=True)
    stack.callback(h1.remove)
    stack.callback(h2.remove)


# Library routines that run many autograd calls of their own: one step each, their result its output.
_WHOLE_CALLS = {
    "torch.autograd.gradcheck": ("gradcheck", "gradgradcheck"),
    "torch.autograd.functional": ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"),
}


_CHECKS = ("gradcheck", "gradgradcheck")
_TOLERANCES = ("eps", "atol", "rtol", "fast_mode")


@contextlib.contextmanager
def _counting_grads():
    """How many autograd.grad calls a gradcheck makes (to build its analytical Jacobian)."""
    calls, depth = [0], [0]
    original = torch.autograd.grad

    def grad(*args, **kwargs):
        # torch.autograd.grad hands itself (this wrapper, its module global now) to the tracer's mode: count once
        calls[0] += depth[0] == 0
        depth[0] += 1
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1

    torch.autograd.grad = grad
    try:
        yield calls
    finally:
        torch.autograd.grad = original


def _tolerances(fn, args, kwargs) -> dict:
    """gradcheck's eps/atol/rtol/fast_mode as this call used them (its defaults where not given)."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
    except (TypeError, ValueError):
        return {}
    return {k: bound.arguments[k] for k in _TOLERANCES if isinstance(bound.arguments.get(k), (bool, int, float))}


def _patch_checks(rec, stack: contextlib.ExitStack) -> None:
    """gradcheck, jacobian & co: their finite differences and dozens of internal autograd.grad calls
    are not the student's program."""
    for module_name, names in _WHOLE_CALLS.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name in names:
            original = getattr(module, name, None)
            if original is None:
                continue

            def whole(*args, _original=original, _name=name, **kwargs):
                if rec.silent:
                    return _original(*args, **kwargs)
                rec.quiet += 1
                out = None
                counted = _counting_grads() if _name in _CHECKS else contextlib.nullcontext([0])
                try:
                    with counted as calls:
                        out = _original(*args, **kwargs)
                    return out
                finally:
                    rec.quiet -= 1
                    step = rec.record(_name, tensors_in(list(args) + list(kwargs.values())), tensors_in(out), kind="op")
                    if step is not None and out is not None and not tensors_in(out):
                        step["result"] = repr(out)[:200]  # gradcheck's True/False: not a tensor, but the answer
                    if step is not None and _name in _CHECKS:
                        step["check"] = {"backward_calls": calls[0], **_tolerances(_original, args, kwargs)}

            functools.update_wrapper(whole, original)
            owners = [module] + ([torch.autograd] if getattr(torch.autograd, name, None) is original else [])
            for owner in owners:
                stack.callback(setattr, owner, name, original)
                setattr(owner, name, whole)


_HYPER_TYPES = (bool, int, float)


def _update_steps(rec, opt, params) -> None:
    """One step per parameter `optimizer.step()` changed: whatever ran inside (single-tensor, foreach or fused kernels,
    momentum buffers, Adam's moments) is the optimizer's business; the step carries the update and its state."""
    snap = rec.reg.values.snap
    line = program_line()
    for p, group, before, grad, copy in params:
        with rec.muted():
            same = torch.equal(p, copy)  # fused kernels change a parameter without a version bump
        if same:
            continue
        g = p.grad
        with torch.no_grad():  # as the update ran
            step = rec.record(f"{type(opt).__name__}.step", [p] + ([g] if g is not None else []), [p], kind="optim", line=line)
        if step is None:
            continue
        state = opt.state.get(p, {})
        hyper = {k: v for k, v in group.items() if k != "params" and isinstance(v, _HYPER_TYPES)}
        betas = group.get("betas")
        if isinstance(betas, (tuple, list)) and all(isinstance(b, _HYPER_TYPES) for b in betas):
            hyper.update({f"beta{i + 1}": b for i, b in enumerate(betas)})  # Adam's (β1, β2) as numbers
        with rec.muted():
            step["optim"] = {
                "optimizer": type(opt).__name__,
                "hyper": hyper,
                "param": rec.reg.tensor(p), "grad": grad, "before": before, "after": step["values"][0],
                "terms": {k: snap(v) for k, v in list(state.items())[:8] if isinstance(v, torch.Tensor)},
                "group": next((i for i, gr in enumerate(opt.param_groups) if gr is group), 0),
            }


def _patch_optimizers(rec, stack: contextlib.ExitStack) -> None:
    """`optimizer.step()`: its inner ops run unrecorded (rec.optim_depth); afterwards one step per parameter it
    changed, with the update (before, grad, after, state terms)."""
    from torch.optim import optimizer as optim_module

    pending: dict[int, list] = {}

    def pre(opt, args, kwargs):
        params = [p for g in opt.param_groups for p in g["params"] if isinstance(p, torch.Tensor)]
        if rec.loops is not None:
            rec.loops.on_params(params)
        rec.optim_depth = 1
        if rec.silent:
            return
        snap = rec.reg.values.snap
        with rec.muted():
            pending[id(opt)] = [(p, g, snap(p), snap(p.grad), p.detach().clone()) for g in opt.param_groups
                                for p in g["params"] if isinstance(p, torch.Tensor) and p.grad is not None]

    def post(opt, args, kwargs):
        rec.optim_depth = 0
        params = pending.pop(id(opt), None)
        if params is None or rec.silent:
            return
        _update_steps(rec, opt, params)

    h1 = optim_module.register_optimizer_step_pre_hook(pre)
    h2 = optim_module.register_optimizer_step_post_hook(post)
    stack.callback(h1.remove)
    stack.callback(h2.remove)


def _patch_init(rec, stack: contextlib.ExitStack) -> None:
    """`nn.init.constant_(w, 0.5)` written in the program: one in-place step of w (inside a module's constructor
    the same call stays unrecorded: parameter initialisation is not the lesson)."""
    from torch.nn import init

    for name in [n for n in dir(init) if n.endswith("_") and not n.startswith("_") and callable(getattr(init, n))]:
        original = getattr(init, name)

        def wrapped(tensor, *args, _original=original, _name=name, **kwargs):
            if rec.silent or not isinstance(tensor, torch.Tensor):
                return _original(tensor, *args, **kwargs)
            line, within = call_context()
            if within is not None:
                return _original(tensor, *args, **kwargs)
            with rec.muted():
                out = _original(tensor, *args, **kwargs)
            base = rec.alias_base(tensor)  # nn.init.normal_(w.data): w changes
            outputs = [tensor] + ([base] if base is not None and rec.reg.known(base) is not None else [])
            with torch.no_grad():
                rec.record(_name, [tensor], outputs, kind="inplace", line=line)
            return out

        wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__ = name, original.__doc__, original  # update_wrapper: 0.5 ms each
        stack.callback(setattr, init, name, original)
        setattr(init, name, wrapped)


# Training bookkeeping: calls whose steps the page keeps off the graph by default (ForwardStep.bookkeeping).
_BOOKKEEPING = {
    "torch.nn.utils": ("clip_grad_norm_", "clip_grad_value_"),
    "torch.nn.utils.clip_grad": ("clip_grad_norm_", "clip_grad_value_"),
}


def _patch_bookkeeping(rec, stack: contextlib.ExitStack) -> None:
    """Steps run inside gradient clipping, zero_grad() and an LR scheduler's step() say so (`bookkeeping`)."""
    def wrap(original, name):
        @functools.wraps(original)
        def inner(*args, **kwargs):
            outer, rec.bookkeeping = rec.bookkeeping, rec.bookkeeping or name
            try:
                return original(*args, **kwargs)
            finally:
                rec.bookkeeping = outer
        return inner

    targets = [(sys.modules.get(m), n, n.rstrip("_")) for m, names in _BOOKKEEPING.items() for n in names]
    from torch.optim import lr_scheduler, optimizer as optim_module
    targets += [(optim_module.Optimizer, "zero_grad", "zero_grad"), (torch.nn.Module, "zero_grad", "zero_grad"),
                (lr_scheduler.LRScheduler, "step", "scheduler")]
    for owner, name, label in targets:
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if owner is None or original is None:
            continue
        stack.callback(setattr, owner, name, original)
        setattr(owner, name, wrap(original, label))


@contextlib.contextmanager
def patched(rec):
    with contextlib.ExitStack() as stack:
        _patch_apply(rec, stack)
        _patch_checks(rec, stack)
        _patch_variable(rec, stack)
        _patch_modules(rec, stack)
        _patch_optimizers(rec, stack)
        _patch_init(rec, stack)
        _patch_bookkeeping(rec, stack)
        yield
