"""A bounded pool of worker processes that check, convert and encode results: nothing a program controls runs on
the server's event loop (or holds its GIL). Each task has a CPU cap; each client a CPU budget (a token bucket)
and one task at a time, so one client's hostile results slow that client down, not the class."""
import asyncio
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from . import check, render

log = logging.getLogger("gradtrace.wire")
_NICE = 10  # below the server's own process: the event loop is served first when the cores are busy


class CpuExceeded(Exception):
    """A task used more than its CPU cap."""


def _init() -> None:
    try:
        os.nice(_NICE)
    except OSError:
        pass


def _on_prof(signum, frame):
    raise CpuExceeded("the task used more CPU than allowed")


def _task(cap_s: float, fn, *args):
    """Run `fn(*args)` under a CPU cap (SIGPROF); returns (result, CPU seconds used)."""
    started = time.process_time()
    signal.signal(signal.SIGPROF, _on_prof)
    signal.setitimer(signal.ITIMER_PROF, cap_s)
    try:
        return fn(*args), time.process_time() - started
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def check_render(result, limit: int, fmt: str, version: int, key: str, cap: int):
    canonical, meta = check.check_trace(result, limit) if isinstance(result, dict) else check.check_frame(result, limit)
    try:
        body = render.render(canonical, fmt, version, key, cap)
    except render.TooLarge:
        body = None
    return canonical, meta, body


class Budget:
    """CPU seconds per client: `burst` to start with, refilled at `rate` per second; a client in debt waits."""

    def __init__(self, rate: float, burst: float, max_clients: int = 10_000):
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._credit: dict[str, tuple[float, float]] = {}  # client -> (credit, when)

    def credit(self, client: str) -> float:
        credit, when = self._credit.get(client, (self.burst, time.monotonic()))
        return min(self.burst, credit + (time.monotonic() - when) * self.rate)

    def wait_s(self, client: str) -> float:
        """Seconds until the client's credit is back at zero (0 when it has credit)."""
        return max(0.0, -self.credit(client) / self.rate) if self.rate > 0 else 0.0

    def charge(self, client: str, cpu_s: float) -> None:
        self._credit[client] = (self.credit(client) - cpu_s, time.monotonic())
        if len(self._credit) > self.max_clients:  # forget the full ones first: they owe nothing
            for key in [k for k in self._credit if self.credit(k) >= self.burst][: len(self._credit) // 2]:
                del self._credit[key]


class CheckPool:
    """`await pool.check(payload_or_trace, client)` → (canonical bytes, meta); `await pool.render(...)` → bytes."""

    def __init__(self, settings):
        self.settings = settings
        self.size = max(1, settings.check_workers)
        self.budget = Budget(settings.check_client_cpu_share, settings.check_client_cpu_burst_s)
        self._executor: ProcessPoolExecutor | None = None
        self._per_client: dict[tuple[int, str], asyncio.Lock] = {}
        self.cpu_s = 0.0
        self.tasks = self.broken = 0

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: a fresh interpreter that imports only the wire modules (no torch, no copy of the server)
            self._executor = ProcessPoolExecutor(self.size, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_init)
        return self._executor

    async def _call(self, client: str | None, fn, *args):
        key = client or ""
        loop = asyncio.get_running_loop()
        slot = (id(loop), key)  # an asyncio.Lock belongs to one loop (a server has one; a bare TestClient one per request)
        lock = self._per_client.setdefault(slot, asyncio.Lock())
        try:
            async with lock:  # one task per client at a time: others' results are never queued behind a flood
                wait = self.budget.wait_s(key)
                if wait:
                    await asyncio.sleep(wait)
                try:
                    result, cpu = await loop.run_in_executor(self._pool(), _task, self.settings.check_task_cpu_s,
                                                             fn, *args)
                except BrokenProcessPool:
                    self._reset()
                    raise check.Invalid("the result checker's process died (out of memory?)") from None
                except CpuExceeded:
                    cpu = self.settings.check_task_cpu_s
                    self.budget.charge(key, cpu)
                    raise check.Invalid("checking the result used more CPU than allowed") from None
                self.budget.charge(key, cpu)
                self.cpu_s += cpu
                self.tasks += 1
                return result
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._per_client.pop(slot, None)

    async def check(self, result: bytes | dict, client: str | None = None) -> tuple[bytes, dict]:
        limit = self.settings.max_tensor_elements
        if isinstance(result, dict):
            return await self._call(client, check.check_trace, result, limit)
        return await self._call(client, check.check_frame, result, limit)

    async def check_render(self, result: bytes | dict, fmt: str, version: int, key: str,
                           client: str | None = None) -> tuple[bytes, dict, bytes | None]:
        """check() and render() in one trip to the pool (what a fresh run needs): (canonical, meta, body).
        The body is None when it is over max_answer_bytes (render() then raises TooLarge for the caller)."""
        limit, cap = self.settings.max_tensor_elements, self.settings.max_answer_bytes
        if fmt == "compact" and version == 1:
            canonical, meta = await self.check(result, client)
            return canonical, meta, None
        return await self._call(client, check_render, result, limit, fmt, version, key, cap)

    async def render(self, canonical: bytes, fmt: str, version: int, key: str, client: str | None = None) -> bytes:
        if fmt == "compact" and version == 1:  # a copy with the key spliced in: no parsing, no pool trip
            body = render.with_key(canonical, key)
            if len(body) > self.settings.max_answer_bytes:
                raise render.TooLarge(len(body), self.settings.max_answer_bytes)
            return body
        return await self._call(client, render.render, canonical, fmt, version, key, self.settings.max_answer_bytes)

    def _reset(self) -> None:
        self.broken += 1
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict:
        return {"workers": self.size, "tasks": self.tasks, "cpu_s": round(self.cpu_s, 3), "restarts": self.broken}

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
