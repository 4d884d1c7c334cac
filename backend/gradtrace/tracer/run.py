"""trace(code, seed) -> Trace: run a program once and return what autograd did, as JSON-ready data."""
import builtins as builtins_module
import contextlib
import gc
import io
import random
import sys
import warnings

import numpy as np
import torch

from .addresses import stabilize
from .causes import explain_program
from .errors import error_of
from .compact import to_format
from .finite_diff import finite_difference as _finite_difference
from .limits import Abort, Limits
from .loops import Loops
from .naming import BIND, ITER, LOOP, LOOP_END, BindingNamespace, instrument, straight_line
from .notes import WarningLog
from .patches import patched
from .programs import forget_lines
from .mode import Mode
from .recorder import PROGRAM, Recorder
from .serialize import build_trace


class _Out(io.TextIOBase):
    """Captured print output, cut at a limit (the rest is counted, not kept)."""

    def __init__(self, limit: int):
        self.limit, self.parts, self.size, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        tail = f"\n… ({self.dropped} more characters cut)" if self.dropped else ""
        return "".join(self.parts) + tail


def _seed(seed: int) -> None:
    # torch.manual_seed(seed) for the CPU generator, without the CUDA/XPU/MTIA lazy-seed bookkeeping
    # (it formats a stack trace per device: 0.7 ms of a 4 ms trace); CPU-only here, so the same effect.
    torch.default_generator.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def trace(code: str, seed: int = 0, limits: Limits | None = None, builtins: dict | None = None,
          format: str = "full", finite_difference: dict | None = None, compact_version: int = 2) -> dict:
    """Run `code` once under the recorder and return the Trace (spec v1, "full" or "compact"), even when the program fails.

    `finite_difference` ({"tensor": name, "h": step}) adds Trace.finite_difference: the program re-run with that leaf nudged.
    `compact_version` 1 keeps the record lists as objects (the sandbox's wire form; compact.py).
    """
    limits = limits or Limits()
    if not finite_difference:
        return to_format(_trace(code, seed, limits, builtins, format), format, compact_version)
    result = _trace(code, seed, limits, builtins, "full")  # the check reads the full trace's Values
    result["finite_difference"] = _finite_difference(
        code, seed, result, finite_difference, max_elements=limits.fd_max_elements,
        time_s=limits.fd_time_s, builtins=builtins, seed_fn=_seed)
    return to_format(result, format, compact_version)


def _trace(code: str, seed: int, limits: Limits, builtins: dict | None, format: str) -> dict:
    """The recorded run itself."""
    rec = Recorder(limits)
    namespace = {"__name__": "__main__", "__builtins__": builtins if builtins is not None else builtins_module}
    namespace[BIND] = rec.bind
    rec.loops = loops = Loops(rec, code)
    namespace.update({LOOP: loops.wrap, ITER: loops.while_iteration, LOOP_END: loops.while_end})
    with _few_collections():
        try:
            if straight_line(code):  # no rewrite needed: the namespace itself reports the assignments
                compiled = compile(code, PROGRAM, "exec", dont_inherit=True)
                namespace = BindingNamespace(rec.bind, namespace)
            else:
                compiled = instrument(code, PROGRAM)
        except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes or lone surrogates in the source
            return build_trace(rec, {**error_of(exc), "kind": "syntax"}, "", {}, [], fmt=format)
        return _run(code, seed, limits, rec, namespace, compiled, format)


@contextlib.contextmanager
def _few_collections():
    """A trace allocates many small objects that all live to the end: collecting them over and over (and torch's
    own objects with them) made tracing superlinear. Collections stay on, just rarer; torch's objects frozen."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _run(code, seed, limits, rec, namespace, compiled, format) -> dict:
    out, err = _Out(limits.max_stdout_chars), _Out(limits.max_stdout_chars)
    error = None
    saved_grad, saved_dtype = torch.is_grad_enabled(), torch.get_default_dtype()
    old_out, old_err = sys.stdout, sys.stderr
    log = WarningLog(rec)
    try:
        _seed(seed)
        with warnings.catch_warnings(), patched(rec), Mode(rec):
            warnings.simplefilter("always")
            warnings.showwarning = log.show
            # numpy 2 warns about torch's own __array_wrap__ signature: not the student's doing
            warnings.filterwarnings("ignore", message=r".*__array_wrap__", category=DeprecationWarning)
            sys.stdout, sys.stderr = out, err
            try:
                exec(compiled, namespace)
            finally:
                sys.stdout, sys.stderr = old_out, old_err
                rec.loops.fast.resume()  # a program that died in a folded stretch: the mode back on the stack
    except SystemExit as exc:
        if exc.code not in (None, 0):
            error = {"kind": "runtime", "type": "SystemExit", "message": f"exit code {exc.code}", "line": None}
    except (Exception, Abort, KeyboardInterrupt, RecursionError, MemoryError) as exc:
        error = error_of(exc)
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        torch.set_grad_enabled(saved_grad)
        torch.set_default_dtype(saved_dtype)
        forget_lines()
    notes = log.finish()
    if error is not None and rec.passes and (rec.passes[-1].get("error") or {}).get("message") == error["message"]:
        cause = rec.passes[-1]["error"].get("cause")  # the program died of its last backward call's error
        if cause is not None:
            error["cause"] = cause
    elif error is not None:
        cause = explain_program(rec, error, namespace, code)  # a shape mismatch, an in-place change of a leaf
        if cause is not None:
            error["cause"] = cause
    node_ids = {key: r["id"] for key, r in rec.reg.nodes.items()}  # keyed by id(): the nodes are still alive
    stdout, stderr = stabilize(out.text(), node_ids), stabilize(err.text(), node_ids)
    try:
        return build_trace(rec, error, stdout, namespace, notes, stderr, fmt=format)
    except Exception as exc:  # e.g. a tensor subclass that cannot be read: keep what is safe to report
        failure = {"kind": "runtime", "type": type(exc).__name__,
                   "message": f"gradtrace could not record the final state: {exc}"[:2000], "line": None}
        return build_trace(Recorder(limits), error or failure, stdout, {}, notes, stderr, fmt=format)
