"""An independent plain-torch run of a program, to hold traces against.

`run_plain(code, seed)` executes the program with no tracer: the same seeding as the tracer, then
`exec` in a fresh namespace. Around every user-level `Tensor.backward`, `torch.autograd.backward`
and `torch.autograd.grad` call it registers a prehook on each node reachable from the roots and
records `fn.name()` in the order the engine really ran them. Nothing from `gradtrace` is imported.

`compare(trace, plain)` lists every difference between a Trace and that run (empty list: they agree).
"""
import ast
import contextlib
import io
import math
import random
import re
import sys
import traceback
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.autograd.functional  # noqa: F401 - patched in _recording, like gradcheck

FILENAME = "<plain-program>"


# gradtrace shows each of these as one step: their internal autograd.grad calls are not the program's passes
WHOLE_CALLS = {
    "torch.autograd.gradcheck": ("gradcheck", "gradgradcheck"),
    "torch.autograd.functional": ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"),
}


@dataclass
class PlainPass:
    call: str                      # "backward" | "grad"
    order: list[str] = field(default_factory=list)
    error: BaseException | None = None


@dataclass
class PlainRun:
    namespace: dict
    passes: list[PlainPass]
    stdout: str
    error: BaseException | None
    error_line: int | None
    code: str = ""


def _tensors(obj) -> list:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    return []


def _leaf_accumulator(t):
    """The AccumulateGrad node the engine runs for `leaf.backward()` (a throwaway view's only input edge)."""
    with torch.enable_grad():
        return t.view_as(t).grad_fn.next_functions[0][0]


def _reachable(roots) -> list:
    seen, out, stack = set(), [], [t.grad_fn if t.grad_fn is not None else _leaf_accumulator(t)
                                   for t in roots if t.grad_fn is not None or t.requires_grad]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        out.append(fn)
        stack.extend(child for child, _ in fn.next_functions)
    return out


@contextlib.contextmanager
def _recording(passes: list):
    """Patch the three entry points; record the node order of the outermost call only."""
    depth = [0]
    tensor_backward = torch.Tensor.backward
    autograd_backward = torch.autograd.backward
    autograd_grad = torch.autograd.grad
    # (module, name, original): library routines whose internal autograd.grad calls are not passes
    checks = [(sys.modules[module], name, getattr(sys.modules[module], name)) for module, names in WHOLE_CALLS.items()
              for name in names]

    def around(call, roots, run):
        if depth[0]:
            return run()
        p = PlainPass(call)
        passes.append(p)
        handles = []
        for fn in _reachable(roots):
            handles.append(fn.register_prehook(lambda grad_outputs, fn=fn: p.order.append(fn.name())))
        depth[0] += 1
        try:
            return run()
        except BaseException as exc:
            p.error = exc
            raise
        finally:
            depth[0] -= 1
            for h in handles:
                h.remove()

    def t_backward(self, *args, **kwargs):
        return around("backward", [self], lambda: tensor_backward(self, *args, **kwargs))

    def a_backward(*args, **kwargs):
        tensors = args[0] if args else kwargs.get("tensors")
        return around("backward", _tensors(tensors), lambda: autograd_backward(*args, **kwargs))

    def a_grad(*args, **kwargs):
        outputs = args[0] if args else kwargs.get("outputs")
        return around("grad", _tensors(outputs), lambda: autograd_grad(*args, **kwargs))

    def quiet(original):
        def check(*args, **kwargs):
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
        return check

    torch.Tensor.backward = t_backward
    torch.autograd.backward = a_backward
    torch.autograd.grad = a_grad
    for module, name, original in checks:
        setattr(module, name, quiet(original))
        if module.__name__ == "torch.autograd.gradcheck":
            setattr(torch.autograd, name, quiet(original))
    try:
        yield
    finally:
        torch.Tensor.backward = tensor_backward
        torch.autograd.backward = autograd_backward
        torch.autograd.grad = autograd_grad
        for module, name, original in checks:
            setattr(module, name, original)
            if module.__name__ == "torch.autograd.gradcheck":
                setattr(torch.autograd, name, original)


def run_plain(code: str, seed: int = 0) -> PlainRun:
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    namespace = {"__name__": "__main__"}
    passes: list[PlainPass] = []
    out = io.StringIO()
    error, line = None, None
    grad_mode, dtype, threads = torch.is_grad_enabled(), torch.get_default_dtype(), torch.get_num_threads()
    # The sandbox runs torch on one thread; float32 sums over many elements round differently on more.
    torch.set_num_threads(1)
    try:
        with _recording(passes), contextlib.redirect_stdout(out):
            exec(compile(code, FILENAME, "exec"), namespace)
    except Exception as exc:  # the program's own failure is data
        error = exc
        if isinstance(exc, SyntaxError):
            line = exc.lineno
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == FILENAME:
                line = lineno
    finally:
        torch.set_grad_enabled(grad_mode)
        torch.set_default_dtype(dtype)
        torch.set_num_threads(threads)
    return PlainRun(namespace, passes, out.getvalue(), error, line, code)


# --- comparing ---

def decode(values) -> torch.Tensor | None:
    """A spec Values' full contents as a float64 tensor (None when only a summary was sent)."""
    if values is None or values.get("values") is None:
        return None

    def num(v):
        if isinstance(v, list):
            return [num(x) for x in v]
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(v, v) if isinstance(v, str) else float(v)

    return torch.tensor(num(values["values"]), dtype=torch.float64).reshape(values["shape"])


def _close(a: float | str | None, b: float) -> bool:
    if isinstance(a, str):
        a = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[a]
    if a is None:
        return False
    if math.isnan(b) or math.isnan(a):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)


def values_differ(values: dict | None, t: torch.Tensor | None) -> str | None:
    """Why `values` does not describe `t`, or None when it does."""
    if t is None or values is None:
        return None if t is None and values is None else f"one is missing: values={values is not None}, tensor={t is not None}"
    t = t.detach()
    if list(values["shape"]) != list(t.shape):
        return f"shape {values['shape']} != {list(t.shape)}"
    if t.is_complex():  # the real part in the Values itself, the imaginary part in its `imag`
        if not values.get("imag"):
            return "a complex tensor without its imaginary part"
        return values_differ({k: v for k, v in values.items() if k != "imag"}, t.resolve_conj().real) or \
            values_differ(values["imag"], t.resolve_conj().imag)
    got = decode(values)
    plain = t.to(torch.float64)
    if got is not None:
        if not torch.allclose(got, plain, rtol=1e-5, atol=1e-6, equal_nan=True):
            return f"values {got.flatten()[:6].tolist()} != {plain.flatten()[:6].tolist()}"
        return None
    if plain.numel():
        finite = plain[torch.isfinite(plain)]
        for key, want in (("min", plain.min()), ("max", plain.max()), ("mean", plain.mean()), ("sum", plain.sum())):
            if not _close(values[key], want.item()) and finite.numel() == plain.numel():
                return f"{key} {values[key]} != {want.item()}"
    return None


# Plain runs print real addresses; traces print stable labels (a node's id, or 0x1, 0x2, …).
_ADDRESS = re.compile(r" at (?:0x[0-9a-fA-F]+|n\d+)\b")


def normal_stdout(text: str) -> str:
    return _ADDRESS.sub(" at …", text)


def compare(trace: dict, plain: PlainRun) -> list[str]:
    """Every way `trace` disagrees with the plain run (an empty list when it agrees)."""
    problems = []
    tensors = {t["id"]: t for t in trace["tensors"]}
    nodes = {n["id"]: n for n in trace["nodes"]}

    # status and error
    if (trace["status"] == "error") != (plain.error is not None):
        problems.append(f"status {trace['status']} but plain error {plain.error!r}")
    if plain.error is not None and trace["error"]:
        err = trace["error"]
        if err["type"] != type(plain.error).__name__:
            problems.append(f"error type {err['type']} != {type(plain.error).__name__}")
        if err["line"] != plain.error_line:
            problems.append(f"error line {err['line']} != {plain.error_line}")
        if not isinstance(plain.error, SyntaxError) and err["message"] != str(plain.error)[:2000]:
            problems.append(f"error message {err['message']!r} != {str(plain.error)!r}")

    # stdout (object addresses differ between runs)
    if normal_stdout(trace["stdout"]) != normal_stdout(plain.stdout):
        problems.append(f"stdout differs:\n{trace['stdout']!r}\n!=\n{plain.stdout!r}")

    # variables: the same names, each bound to a tensor that matches
    plain_vars = {k: v for k, v in plain.namespace.items() if isinstance(v, torch.Tensor) and not k.startswith("__")}
    if set(trace["variables"]) != set(plain_vars):
        problems.append(f"variables {sorted(trace['variables'])} != {sorted(plain_vars)}")
    for name in sorted(set(trace["variables"]) & set(plain_vars)):
        got, want = tensors[trace["variables"][name]], plain_vars[name]
        where = f"variable {name}"
        for attr in ("requires_grad", "is_leaf", "retains_grad"):
            if got[attr] != getattr(want, attr):
                problems.append(f"{where}: {attr} {got[attr]} != {getattr(want, attr)}")
        if got["shape"] != list(want.shape):
            problems.append(f"{where}: shape {got['shape']} != {list(want.shape)}")
        if got["dtype"] != str(want.dtype).replace("torch.", ""):
            problems.append(f"{where}: dtype {got['dtype']} != {want.dtype}")
        fn_name = nodes[got["grad_fn"]]["name"] if got["grad_fn"] else None
        want_fn = want.grad_fn.name() if want.grad_fn is not None else None
        if fn_name != want_fn:
            problems.append(f"{where}: grad_fn {fn_name} != {want_fn}")
        why = values_differ(got["data"], want)
        if why:
            problems.append(f"{where}: data {why}")
        want_grad = want.grad if (want.is_leaf or want.retains_grad) else None
        why = values_differ(got["grad"], want_grad)
        if why:
            problems.append(f"{where}: grad {why}")

    problems.extend(module_problems(trace, plain))

    # backward passes: count, kind, failure, and the engine's node order. A folded loop leaves passes out on
    # purpose (Trace.loops[].omitted, Trace.omitted): the recorded ones must then be an in-order subsequence.
    left_out = sum(loop["omitted"]["backward_passes"] for loop in trace.get("loops") or [])
    left_out += (trace.get("omitted") or {}).get("backward_passes", 0)
    if len(trace["backward"]) + left_out != len(plain.passes):
        problems.append(f"{len(trace['backward'])} passes (+{left_out} folded) != {len(plain.passes)} in the plain run")
    if not left_out:
        pairs = list(enumerate(zip(trace["backward"], plain.passes)))
    else:
        pairs, j = [], 0
        for i, tp in enumerate(trace["backward"]):
            order = [nodes[s["node"]]["name"] for s in tp["steps"]]
            while j < len(plain.passes) and (plain.passes[j].call != tp["call"] or plain.passes[j].order != order):
                j += 1
            if j == len(plain.passes):
                problems.append(f"pass {i}: no later pass of the plain run has its call and node order {order}")
                break
            pairs.append((i, (tp, plain.passes[j])))
            j += 1
    for i, (tp, pp) in pairs:
        if tp["call"] != pp.call:
            problems.append(f"pass {i}: call {tp['call']} != {pp.call}")
        if (tp["error"] is not None) != (pp.error is not None):
            problems.append(f"pass {i}: error {tp['error']} vs plain {pp.error!r}")
        order = [nodes[s["node"]]["name"] for s in tp["steps"]]
        if order != pp.order:
            problems.append(f"pass {i}: node order {order} != {pp.order}")
    return problems


def _assigned_once(code: str) -> set[str]:
    """Module-level names the program assigns exactly once (a rebound `model` leaves its old tensors named too)."""
    counts: dict[str, int] = {}
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
    return {name for name, n in counts.items() if n == 1}


def module_parameters(plain: PlainRun) -> list[tuple[str, torch.Tensor]]:
    """Every parameter and buffer of each nn.Module the program bound to a variable once, by its path from that
    variable (`model.transformer.h.0.attn.c_attn.weight`), ties included (a tensor can be listed under several paths)."""
    out = []
    once = _assigned_once(plain.code)
    for var, value in plain.namespace.items():
        if isinstance(value, torch.nn.Module) and not var.startswith("__") and var in once:
            out += list(value.named_parameters(prefix=var, remove_duplicate=False))
            out += [(n, b) for n, b in value.named_buffers(prefix=var, remove_duplicate=False) if b is not None]
    return out


def module_problems(trace: dict, plain: PlainRun) -> list[str]:
    """Each module parameter/buffer is a trace tensor named by one of its paths (a module bound to two variables,
    e.g. `layer` in `for layer in net`, has a path from each), listing its other paths from the same variable as
    tied; its final value and grad are torch's. Parameters the trace never saw (never used) are left out."""
    problems = []
    by_name = {}
    for t in trace["tensors"]:  # a name bound twice (`model = nn.Linear(…)` again) means its latest tensor
        if t["name"] and t["grad_of"] is None:
            by_name[t["name"]] = t
    paths: dict[int, list[str]] = {}
    tensors: dict[int, torch.Tensor] = {}
    for path, p in module_parameters(plain):
        paths.setdefault(id(p), []).append(path)
        tensors[id(p)] = p
    for key, names in paths.items():
        p = tensors[key]
        got = next((by_name[n] for n in names if n in by_name), None)
        if got is None:
            if p.requires_grad:
                problems.append(f"module parameter {names[0]} is not named by its path")
            continue
        root = got["name"].split(".")[0]
        for other in names:
            if other != got["name"] and other.split(".")[0] == root and other not in (got.get("tied") or []):
                problems.append(f"{other}: not listed as tied with {got['name']}")
        why = values_differ(got["data"], p)
        if why:
            problems.append(f"{got['name']}: data {why}")
        why = values_differ(got["grad"], p.grad)
        if why:
            problems.append(f"{got['name']}: grad {why}")
    return problems
