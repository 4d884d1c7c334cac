"""Run untrusted programs: a pool of warm parents forking one isolated child per run (see docs/security.md)."""
from .runner import SandboxRunner

__all__ = ["SandboxRunner"]
