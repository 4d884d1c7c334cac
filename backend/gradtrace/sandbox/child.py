"""One run, in a process forked from the warm parent: isolate, wait for the program on its own run socket,
trace it, write the JSON result back on that socket, and _exit (no atexit, no __del__, no flush of anything
the program left)."""
import json
import os
import signal
import sys

from ..tracer import Abort, trace
from . import channel, pretouch, stdlib_finder, watchdog
from .guards import ast_check
from .guards.builtins import REFUSED_TYPE, restricted_builtins
from .layers import apply_all
from .results import error_trace

# Bound now, in the warm parent: a program that replaces json.dumps cannot change how its result is encoded.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
EXIT_OK, EXIT_BROKEN = 0, 70
_HEADROOM_FRAMES = 60  # frames of the tracer and torch's Python layers on top of the program's own


def _quiet_stdio() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _close_fds(keep: set) -> None:
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def run_program(code: str, seed: int, options, finite_difference: dict | None = None) -> dict:
    """Language guards, soft limits, then the tracer. Always returns a Trace dict."""
    builtins = None
    if options.language_guards:
        try:
            ast_check.check(code)
        except ast_check.Refusal as refusal:
            return error_trace("refused", REFUSED_TYPE, refusal.message, refusal.line)
        builtins = restricted_builtins()
    sys.setrecursionlimit(_stack_depth() + options.max_recursion + _HEADROOM_FRAMES)
    watchdog.arm(options.timeout_s, options.cpu_s, options.idle_limit_s)
    try:
        return trace(code, seed=seed, limits=options.tracer_limits(), builtins=builtins, format="compact",  # API expands
                     finite_difference=finite_difference, compact_version=1)  # v1: what validate.py checks
    except Abort as exc:  # the soft limit struck after the program, while the trace was being built
        return error_trace(exc.kind, exc.type_name, exc.message)
    except MemoryError:
        return error_trace("memory", "MemoryError", "out of memory while building the trace")
    except BaseException as exc:  # noqa: BLE001 - whatever the program broke, the user gets an error trace
        return error_trace("runtime", type(exc).__name__, f"the tracer failed: {str(exc)[:500]}")
    finally:
        watchdog.disarm()


def encode(result: dict, max_bytes: int) -> bytes:
    try:
        payload = _encode(result).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError, RecursionError) as exc:
        return _encode(error_trace("runtime", type(exc).__name__, f"the trace could not be encoded: {exc}")).encode()
    except MemoryError:
        return _encode(error_trace("memory", "MemoryError", "out of memory while encoding the trace")).encode()
    if len(payload) > max_bytes:
        stdout = result.get("stdout", "") if isinstance(result.get("stdout"), str) else ""
        return _encode(error_trace("limit", "LimitExceeded",
                                   f"the trace is {len(payload)} bytes, more than the limit of {max_bytes}",
                                   stdout=stdout[:20_000])).encode()
    return payload


def _fallback(kind: str, type_name: str, message: str) -> bytes:
    return _encode(error_trace(kind, type_name, message)).encode()


# Made in the warm parent, so handing back an error needs no memory even after the program used it all.
_OUT_OF_MEMORY = _fallback("memory", "MemoryError", "the program used all the memory it may use")
_INTERNAL = _fallback("runtime", "SandboxError", "the sandboxed process failed before returning a trace")


def serve(request: dict, options) -> bytes:
    """The program's trace as JSON bytes, whatever the program did to this process."""
    try:
        result = run_program(request["code"], int(request.get("seed", 0)), options, request.get("fd"))
    except BaseException as exc:  # noqa: BLE001 - e.g. the soft limit striking between trace() and disarm()
        watchdog.disarm()
        kind = exc.kind if isinstance(exc, Abort) else "memory" if isinstance(exc, MemoryError) else "runtime"
        result = error_trace(kind, getattr(exc, "type_name", type(exc).__name__), str(exc)[:500] or kind)
    try:
        return encode(result, options.max_trace_bytes)
    except MemoryError:
        result = None
        return _OUT_OF_MEMORY


def main(options, run_fd: int, ruleset_fd: int | None, parent_pid: int, expected: dict | None,
         warm: bool = True) -> None:
    """Entry point right after fork(); never returns. `run_fd` is this child's own socket to the server;
    `warm`: run the trusted warm-up pieces while waiting for the program (the warm parent's call)."""
    status = EXIT_BROKEN
    try:
        os.setsid()  # own process group and session: no terminal, killable as a group
        signal.signal(watchdog.IDLE_SIGNAL, signal.SIG_IGN)  # until the program runs (watchdog.arm)
        _quiet_stdio()
        _close_fds({run_fd} | ({ruleset_fd} if ruleset_fd is not None else set()))
        sys.dont_write_bytecode = True
        stdlib_finder.install()
        active, errors = apply_all(options, ruleset_fd, parent_pid)
        if expected is not None and warm:  # not for the startup probe
            pretouch.run(run_fd, run_program, options)
        request = json.loads(channel.read_frame(run_fd))
        missing = [name for name, on in (expected or {}).items() if on and not active.get(name)]
        if request.get("op") == "probe":
            payload = _encode({"layers": active, "errors": errors, "checks": _self_checks()}).encode()
        elif missing:
            payload = _encode(error_trace("runtime", "SandboxError", "the sandbox could not isolate this run ("
                                          + "; ".join(f"{m}: {errors.get(m, 'failed')}" for m in missing) + ")")).encode()
        else:
            payload = serve(request, options)
        channel.write_frame(run_fd, payload)
        status = EXIT_OK
    except BaseException:  # noqa: BLE001 - never let anything escape into the warm parent's code
        try:
            channel.write_frame(run_fd, _INTERNAL)
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(status)


def _try_fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _try_write():
    fd = os.open("/tmp/.gradtrace-probe", os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.unlink("/tmp/.gradtrace-probe")


def _self_checks() -> dict:
    """Run once at startup: confirm the layers really stop the basic escapes in this process."""
    import socket

    checks = {}
    for name, attempt in (("read_etc_passwd", lambda: open("/etc/passwd", "rb").close()),
                          ("write_tmp", _try_write), ("socket", lambda: socket.socket().close()),
                          ("fork", _try_fork)):
        try:
            attempt()
            checks[name] = "ALLOWED"
        except Exception as exc:  # noqa: BLE001 - any failure means the attempt was stopped
            checks[name] = f"blocked ({type(exc).__name__})"
    return checks
