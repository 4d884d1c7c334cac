"""The pure tracer: code in, Trace out (no HTTP, no processes)."""
from .limits import Abort, Limits
from .run import trace

__all__ = ["trace", "Limits", "Abort"]
