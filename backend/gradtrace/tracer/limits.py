"""Limits the tracer enforces while recording, and the exception that ends a run early."""
from ..limits import TraceLimits


# One definition (gradtrace/limits.py): the tracer's limits are the TraceLimits settings, field for field.
Limits = TraceLimits


class Abort(BaseException):
    """Raised into a running program (by a limit or a sandbox watchdog) to stop it with an error kind.

    A BaseException so that a user's `except Exception:` cannot swallow it.
    """

    def __init__(self, kind: str, message: str, type_name: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.type_name = type_name or {"timeout": "TimeoutError", "memory": "MemoryError"}.get(kind, "LimitExceeded")
