"""Traces the sandbox itself produces: refusals, and what a child's death means for the user."""
import os
import signal

_CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGSYS,
                  signal.SIGTRAP}


def error_trace(kind: str, type_name: str, message: str, line: int | None = None, stdout: str = "") -> dict:
    """A spec-v1 Trace with nothing recorded, only the error (used when no partial trace exists)."""
    return {"version": 1, "status": "error",
            "error": {"kind": kind, "type": type_name, "message": message, "line": line},
            "stdout": stdout, "tensors": [], "nodes": [], "forward": [], "backward": [], "variables": {}}


def death_trace(status: int, cpu_s: float, killed_for_time: bool, limits: dict) -> dict:
    """Explain a child that ended without a result. `status` is os.wait4's, `cpu_s` the child's CPU time."""
    if killed_for_time:
        return error_trace("timeout", "TimeoutError",
                           f"the program ran longer than {limits['timeout_s']:g} s and was stopped")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_s >= limits["cpu_s"] - 0.05):
            return error_trace("timeout", "TimeoutError",
                               f"the program used more than {limits['cpu_s']} s of CPU time and was stopped")
        if sig == signal.SIGKILL:
            return error_trace("memory", "MemoryError",
                               "the program was killed by the system, most likely for using too much memory "
                               f"(limit {limits['memory_mb']} MiB)")
        name = signal.Signals(sig).name if sig in set(signal.Signals) else f"signal {sig}"
        if sig in _CRASH_SIGNALS:
            return error_trace("runtime", "Crash",
                               f"the program crashed torch's native code ({name}); only its own sandboxed "
                               "process was affected")
        return error_trace("runtime", "Crash", f"the program's process was ended by {name}")
    return error_trace("runtime", "SystemExit",
                       f"the program's process exited (code {os.WEXITSTATUS(status)}) before returning a trace")

