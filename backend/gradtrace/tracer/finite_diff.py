"""Finite differences: re-run the program with one leaf nudged element by element, read its backward root each time."""
import io
import sys
import time
import warnings

import torch

from .naming import BIND, ITER, LOOP, LOOP_END, instrument
from .values import encode

PROGRAM_FD = "<gradtrace-fd>"


class _Stop(BaseException):
    """Raised at the chosen backward call: the root's value is all a re-run needs (BaseException: not catchable by `except Exception`)."""


def _leaf(trace: dict, name: str):
    tid = trace.get("variables", {}).get(name)
    tensors = {t["id"]: t for t in trace.get("tensors", [])}
    if tid is None and name in tensors:
        tid = name  # a tensor id works too
    if tid is None:  # a module parameter by its path (`model.0.weight`), tied paths included; leaves first
        named = [t for t in tensors.values() if t["grad_of"] is None and (t["name"] == name or name in (t.get("tied") or []))]
        named.sort(key=lambda t: not (t["is_leaf"] and t["requires_grad"]))
        tid = named[0]["id"] if named else None
    return tid, tensors.get(tid)


def _module_target(module, path: str):
    """The parameter or buffer at `path` inside `module` (None when it has none there)."""
    for sub, t in module.named_parameters(remove_duplicate=False):
        if sub == path:
            return t
    for sub, t in module.named_buffers(remove_duplicate=False):
        if sub == path:
            return t
    return None


def _pass_for(trace: dict, tid: str):
    """First backward pass that reached the leaf's AccumulateGrad, and the gradient it delivered there."""
    acc = {n["id"] for n in trace.get("nodes", []) if n.get("kind") == "accumulate" and n.get("tensor") == tid}
    for p, bp in enumerate(trace.get("backward", [])):
        got = [s["grad_outputs"][0] for s in bp.get("steps", []) if s["node"] in acc and s.get("grad_outputs")]
        if got and bp.get("root"):
            return p, bp, got
    return None, None, None


def _decode(values: dict | None):
    if not values or values.get("values") is None:
        return None
    conv = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}

    def num(v):
        return [num(x) for x in v] if isinstance(v, list) else conv.get(v, v) if isinstance(v, str) else float(v)

    return torch.tensor(num(values["values"]), dtype=torch.float64).reshape(values["shape"])


def finite_difference(code: str, seed: int, trace: dict, request: dict, *, max_elements: int, time_s: float,
                      builtins=None, seed_fn=None) -> dict:
    """Trace.finite_difference for `request` = {"tensor": variable name, "h": step}; an "error" text when it cannot be done."""
    name = str(request.get("tensor", ""))
    h = float(request.get("h", 1e-3) or 1e-3)
    out = {"tensor": None, "h": h, "values": None, "root": None, "pass": None, "grad": None, "error": None}
    tid, t = _leaf(trace, name)
    if t is None:
        return {**out, "error": f"no tensor named {name!r} in the program"}
    out["tensor"] = tid
    if not (t["is_leaf"] and t["requires_grad"]):
        return {**out, "error": f"{name} is not a leaf that requires grad"}
    n = 1
    for s in t["shape"]:
        n *= s
    if n > max_elements:
        return {**out, "error": f"{name} has {n} elements; finite differences are limited to {max_elements}"}
    p, bp, got = _pass_for(trace, tid)
    if p is None:
        return {**out, "error": f"no backward pass reached {name}"}
    grad = sum(_decode(g) for g in got) if all(g.get("values") is not None for g in got) else None
    out.update(root=bp["root"], **{"pass": p}, grad=encode(grad.to(torch.float32), max_elements) if grad is not None else None)
    line = t.get("line")
    shape = tuple(t["shape"])
    weight = _decode(bp.get("gradient"))
    started = time.monotonic()
    values = []
    for i in range(n):
        idx = tuple(int(x) for x in torch.unravel_index(torch.tensor(i), shape)) if shape else ()
        fs = []
        for delta in (h, -h):
            if time.monotonic() - started > time_s:
                return {**out, "error": f"stopped after {time_s:g} s: the program is too slow to re-run {2 * n} times"}
            f, err = _run_nudged(code, seed, name, line, idx, delta, p, weight, builtins, seed_fn)
            if err:
                return {**out, "error": err}
            fs.append(f)
        values.append((fs[0] - fs[1]) / (2 * h))
    out["values"] = encode(torch.tensor(values, dtype=torch.float64).reshape(shape), max_elements)
    return out


def _run_nudged(code, seed, name, line, idx, delta, pass_index, weight, builtins, seed_fn):
    """Run the program once with `name` (bound at `line`) nudged by delta at idx; the root of backward call `pass_index`."""
    state = {"nudged": False, "calls": 0, "depth": 0, "root": None}

    root, _, path = name.partition(".")

    def bind(*pairs):
        if state["nudged"]:
            return
        for nm, value in pairs:
            target = None
            if nm == name and isinstance(value, torch.Tensor) and (line is None or sys._getframe(1).f_lineno == line):
                target = value
            elif path and nm == root and isinstance(value, torch.nn.Module):
                target = _module_target(value, path)  # `model = Net()`: nudge model.<path> once it exists
            if target is not None:
                with torch.no_grad():
                    target.data[idx] += delta
                state["nudged"] = True

    def at_call(root, gradient, run):
        if state["depth"]:
            return run()
        if state["calls"] == pass_index:
            state["root"] = (root.detach().to(torch.float64), gradient)
            raise _Stop()
        state["calls"] += 1
        state["depth"] += 1
        try:
            return run()
        finally:
            state["depth"] -= 1

    orig = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)

    def t_backward(self, gradient=None, *a, **k):
        return at_call(self, gradient, lambda: orig[0](self, gradient, *a, **k))

    def a_backward(tensors, grad_tensors=None, *a, **k):
        first = tensors[0] if isinstance(tensors, (list, tuple)) else tensors
        g = grad_tensors[0] if isinstance(grad_tensors, (list, tuple)) else grad_tensors
        return at_call(first, g, lambda: orig[1](tensors, grad_tensors, *a, **k))

    def a_grad(outputs, *a, **k):
        first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
        go = k.get("grad_outputs", a[1] if len(a) > 1 else None)
        go = go[0] if isinstance(go, (list, tuple)) else go
        return at_call(first, go, lambda: orig[2](outputs, *a, **k))

    import builtins as builtins_module
    namespace = {"__name__": "__main__", "__builtins__": builtins if builtins is not None else builtins_module, BIND: bind,
                 # the instrumented program's loop marks: a re-run records nothing, so they pass straight through
                 LOOP: lambda iterable, line, end_line: iterable, ITER: lambda line, end_line: None,
                 LOOP_END: lambda line: None}
    old = sys.stdout, sys.stderr
    grad_mode, dtype = torch.is_grad_enabled(), torch.get_default_dtype()
    try:
        compiled = instrument(code, PROGRAM_FD)
        if seed_fn:
            seed_fn(seed)
        torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = t_backward, a_backward, a_grad
        sys.stdout = sys.stderr = io.StringIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compiled, namespace)
    except _Stop:
        pass
    except Exception as exc:  # the nudged program failed (e.g. log of a negative number): say so
        return None, f"the program failed when {name} was nudged: {type(exc).__name__}: {str(exc)[:200]}"
    finally:
        sys.stdout, sys.stderr = old
        torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = orig
        torch.set_grad_enabled(grad_mode)
        torch.set_default_dtype(dtype)
    if not state["nudged"]:
        return None, f"could not find where {name} is made"
    if state["root"] is None:
        return None, "the nudged program did not reach the same backward call"
    root, gradient = state["root"]
    if gradient is not None:
        w = gradient.detach().to(torch.float64) if isinstance(gradient, torch.Tensor) else torch.tensor(float(gradient), dtype=torch.float64)
    else:
        w = weight if weight is not None else torch.ones((), dtype=torch.float64)
    return float((root * w).sum()), None
