"""The one interface the API uses to turn a program into a Trace: `await runner.run(code, seed)`."""
import asyncio
import contextvars
import threading
from typing import Protocol

from .tracer import Limits, trace


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


SEAT_MARK = "#"  # client keys are "<address>" or "<address>#<seat>" (api/seats.py: a signed per-browser cookie)


def split_client(client: str) -> tuple[str, str | None]:
    address, _, seat = client.partition(SEAT_MARK)
    return address, seat or None


class Admission:
    """Per-client shares of the run queue (not thread-safe: the runner holds its lock around it).

    A client without a seat may have `per_client` runs queued or running. Browsers hold a seat (a signed cookie),
    so students behind one NAT address are told apart: each seat may have `per_seat`, and all seats and seatless
    requests of one address together `per_address`, so one abuser (one seat) cannot take the hall's share and one
    hall (one address) cannot take everyone else's.
    """

    def __init__(self, per_client: int, per_seat: int, per_address: int):
        self.per_client, self.per_seat, self.per_address = per_client, per_seat, max(per_address, per_client)
        self._held: dict[str, int] = {}

    def keys(self, client: str) -> tuple[str, ...]:
        address, seat = split_client(client)
        return ("a:" + address, "s:" + client) if seat else ("a:" + address, "c:" + address)

    def admit(self, client: str | None) -> bool:
        """Count one more run of `client` if its shares allow it (None: nobody to tell apart, always)."""
        if client is None:
            return True
        address_key, own_key = self.keys(client)
        own_limit = self.per_seat if own_key.startswith("s:") else self.per_client
        if self._held.get(own_key, 0) >= own_limit or self._held.get(address_key, 0) >= self.per_address:
            return False
        for key in (address_key, own_key):
            self._held[key] = self._held.get(key, 0) + 1
        return True

    def release(self, client: str | None) -> None:
        if client is None:
            return
        for key in self.keys(client):
            left = self._held.pop(key, 1) - 1
            if left > 0:
                self._held[key] = left


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
        with self._lock:
            return trace(code, seed=seed, limits=self.limits, finite_difference=finite_difference)

    async def run(self, code: str, seed: int, finite_difference: dict | None = None) -> dict:
        return await asyncio.to_thread(self.run_sync, code, seed, finite_difference)

    def health(self) -> dict:
        return {"runner": "in-process", "ready": True}

    def close(self) -> None:
        pass
