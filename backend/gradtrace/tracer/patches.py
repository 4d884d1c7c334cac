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
    if rec.module_stack:
        parent = rec.module_stack[-1]
        owner = rec.module_objs.get(parent)
        if owner is not None:
            for child_name, child in owner._modules.items():
                if child is module:
                    return f"{parent}.{child_name}"
    known = rec.module_names.get(id(module))
    return known[1] if known else type(module).__name__


def _patch_modules(rec, stack: contextlib.ExitStack) -> None:
    rec.module_objs = {}

    def pre(module, args):
        if rec.silent:
            return None
        rec.paths.entered(module)
        path = _module_name(rec, module)
        rec.module_objs[path] = module
        if rec.paths.path(module) is None:  # a module in no bound tree: named after its parent call or type
            for pname, param in module.named_parameters(recurse=False):
                rec.reg.name(param, f"{path}.{pname}")
        rec.module_stack.append(path)
        return None

    def post(module, args, output):
        if not rec.silent and rec.module_stack:
            rec.module_stack.pop()
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


def _attach_updates(rec, opt, start: int, params) -> None:
    snap = rec.reg.values.snap
    for p, group, before, grad in params:
        tid = (rec.reg.known(p) or {}).get("id")
        step = next((s for s in reversed(rec.steps[start:]) if tid in s["outputs"]), None) if tid else None
        if step is None:
            continue
        state = opt.state.get(p, {})
        hyper = {k: v for k, v in group.items() if k != "params" and isinstance(v, _HYPER_TYPES)}
        betas = group.get("betas")
        if isinstance(betas, (tuple, list)) and all(isinstance(b, _HYPER_TYPES) for b in betas):
            hyper.update({f"beta{i + 1}": b for i, b in enumerate(betas)})  # Adam's (β1, β2) as numbers
        step["optim"] = {
            "optimizer": type(opt).__name__,
            "hyper": hyper,
            "param": tid, "grad": grad, "before": before, "after": snap(p),
            "terms": {k: snap(v) for k, v in list(state.items())[:8] if isinstance(v, torch.Tensor)},
        }


def _patch_optimizers(rec, stack: contextlib.ExitStack) -> None:
    """`optimizer.step()`: each parameter's update (before, grad, after, state terms) on the step that wrote it."""
    from torch.optim import optimizer as optim_module

    pending: dict[int, tuple] = {}

    def pre(opt, args, kwargs):
        params = [p for g in opt.param_groups for p in g["params"] if isinstance(p, torch.Tensor)]
        if rec.loops is not None:
            rec.loops.on_params(params)
        if rec.silent:
            return
        snap = rec.reg.values.snap
        with rec.muted():
            pending[id(opt)] = (len(rec.steps), [(p, g, snap(p), snap(p.grad)) for g in opt.param_groups
                                                  for p in g["params"] if isinstance(p, torch.Tensor)
                                                  and p.grad is not None])

    def post(opt, args, kwargs):
        start, params = pending.pop(id(opt), (None, ()))
        if start is None or rec.silent:
            return
        with rec.muted():
            _attach_updates(rec, opt, start, params)

    h1 = optim_module.register_optimizer_step_pre_hook(pre)
    h2 = optim_module.register_optimizer_step_post_hook(post)
    stack.callback(h1.remove)
    stack.callback(h2.remove)


@contextlib.contextmanager
def patched(rec):
    with contextlib.ExitStack() as stack:
        _patch_apply(rec, stack)
        _patch_checks(rec, stack)
        _patch_variable(rec, stack)
        _patch_modules(rec, stack)
        _patch_optimizers(rec, stack)
        yield
