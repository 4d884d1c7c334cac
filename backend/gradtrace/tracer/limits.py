"""Limits the tracer enforces while recording, and the exception that ends a run early."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-run recording limits (the server fills them from Settings)."""

    max_tensor_elements: int = 256
    max_steps: int = 5_000
    max_nodes: int = 5_000
    max_backward_steps: int = 20_000
    max_stdout_chars: int = 20_000
    max_tensor_mb: int = 256
    max_trace_bytes: int = 4_000_000
    loop_head_iterations: int = 3
    loop_full_iterations: int = 10
    fd_max_elements: int = 16
    fd_time_s: float = 2.0

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(**{f: getattr(settings, f) for f in cls.__dataclass_fields__})


class Abort(BaseException):
    """Raised into a running program (by a limit or a sandbox watchdog) to stop it with an error kind.

    A BaseException so that a user's `except Exception:` cannot swallow it.
    """

    def __init__(self, kind: str, message: str, type_name: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.type_name = type_name or {"timeout": "TimeoutError", "memory": "MemoryError"}.get(kind, "LimitExceeded")
