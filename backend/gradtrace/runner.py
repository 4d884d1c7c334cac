"""The one interface the API uses to turn a program into a Trace: `await runner.run(code, seed)`."""
import asyncio
import contextvars
import threading
from typing import Protocol

from .tracer import Limits


class Saturated(Exception):
    """Every worker is busy and the queue is full; the API answers 503 with Retry-After."""

    def __init__(self, retry_after: float = 1.0):
        super().__init__("server busy")
        self.retry_after = retry_after


class ClientBusy(Saturated):
    """This client already has its share of runs queued or running; the API answers 429 with Retry-After."""


# The client key of the request being served (set by the API's door middleware), read by runners that are
# fair between clients; None outside a request (CLI, tests).
_client: contextvars.ContextVar[str | None] = contextvars.ContextVar("gradtrace_client", default=None)


def current_client() -> str | None:
    return _client.get()


def set_current_client(key: str | None) -> contextvars.Token:
    return _client.set(key)


class Runner(Protocol):
    async def run(self, code: str, seed: int, **tracer_options) -> dict: ...

    def health(self) -> dict: ...

    def close(self) -> None: ...


class InProcessRunner:
    """Traces in this process, one program at a time: for trusted code (tests, CLI), never for a server."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._lock = threading.Lock()  # the tracer patches torch globals while it runs

    def run_sync(self, code: str, seed: int = 0, finite_difference: dict | None = None) -> dict:
        from .tracer import trace  # torch: only a process that traces in-process loads it

        with self._lock:
            return trace(code, seed=seed, limits=self.limits, finite_difference=finite_difference)

    async def run(self, code: str, seed: int, finite_difference: dict | None = None) -> dict:
        return await asyncio.to_thread(self.run_sync, code, seed, finite_difference)

    def health(self) -> dict:
        return {"runner": "in-process", "ready": True}

    def close(self) -> None:
        pass
