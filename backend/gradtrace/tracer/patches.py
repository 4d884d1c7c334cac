"""Temporary patches that make visible what TorchFunctionMode cannot see: custom Function.apply,
the legacy Variable wrapper, and which nn.Module a call happens in. All undone when the run ends."""
import contextlib
import functools
import sys

import torch
import torch.autograd.function as autograd_function
import torch.autograd.variable as autograd_variable
from torch.nn.modules import module as nn_module

from .ops import tensors_in


def _patch_apply(rec, stack: contextlib.ExitStack) -> None:
    original = autograd_function.Function.__dict__["apply"]

    def apply(cls, *args, **kwargs):
        if rec.quiet:
            return original.__func__(cls, *args, **kwargs)
        rec.quiet += 1  # the forward's own ops are internal to this one step
        try:
            out = original.__func__(cls, *args, **kwargs)
        finally:
            rec.quiet -= 1
        rec.record(cls.__name__, tensors_in(list(args) + list(kwargs.values())), tensors_in(out), kind="custom")
        return out

    autograd_function.Function.apply = classmethod(apply)
    stack.callback(setattr, autograd_function.Function, "apply", original)


def _patch_variable(rec, stack: contextlib.ExitStack) -> None:
    original = autograd_variable.Variable

    class _Meta(type):
        def __call__(cls, *args, **kwargs):
            out = original(*args, **kwargs)
            if not rec.quiet:
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
        if rec.quiet:
            return None
        path = _module_name(rec, module)
        rec.module_objs[path] = module
        for pname, param in module.named_parameters(recurse=False):
            rec.reg.name(param, f"{path}.{pname}")
        rec.module_stack.append(path)
        return None

    def post(module, args, output):
        if not rec.quiet and rec.module_stack:
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
                if rec.quiet:
                    return _original(*args, **kwargs)
                rec.quiet += 1
                out = None
                try:
                    out = _original(*args, **kwargs)
                    return out
                finally:
                    rec.quiet -= 1
                    step = rec.record(_name, tensors_in(list(args) + list(kwargs.values())), tensors_in(out), kind="op")
                    if step is not None and out is not None and not tensors_in(out):
                        step["result"] = repr(out)[:200]  # gradcheck's True/False: not a tensor, but the answer

            functools.update_wrapper(whole, original)
            owners = [module] + ([torch.autograd] if getattr(torch.autograd, name, None) is original else [])
            for owner in owners:
                stack.callback(setattr, owner, name, original)
                setattr(owner, name, whole)


@contextlib.contextmanager
def patched(rec):
    with contextlib.ExitStack() as stack:
        _patch_apply(rec, stack)
        _patch_checks(rec, stack)
        _patch_variable(rec, stack)
        _patch_modules(rec, stack)
        yield
