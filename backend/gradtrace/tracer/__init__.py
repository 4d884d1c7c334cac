"""The pure tracer: code in, Trace out (no HTTP, no processes)."""
from .limits import Abort, Limits

__all__ = ["trace", "Limits", "Abort"]


def __getattr__(name):
    # torch is imported with the tracer itself, on first use: the server and the wire checks load
    # gradtrace.tracer.compact/columns without it (only the sandbox's warm parents need torch).
    if name == "trace":
        from .run import trace

        return trace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
