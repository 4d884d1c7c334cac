"""The runner behind a cache: identical requests share one run, finished traces are served from memory or Redis."""
import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..config import Settings
from ..sandbox.validate import SANDBOX_ERROR
from .keys import cache_namespace, trace_key
from .lru import ByteLRU
from .shared import SharedCache

# Error kinds a rerun reproduces exactly; timeouts, memory and sandbox failures depend on load and are retried.
DETERMINISTIC_ERRORS = frozenset({"syntax", "runtime", "refused", "limit"})


@dataclass(frozen=True)
class CachedTrace:
    key: str
    body: bytes  # the trace as JSON, with "trace_key"
    cacheable: bool
    source: str  # "run" (this request ran it), "flight" (shared a run), "memory" or "shared"


def deterministic(trace: dict) -> bool:
    """Whether the same request always gives this trace (so it may be cached)."""
    err = trace.get("error")
    if err is not None and err.get("type") == SANDBOX_ERROR:  # e.g. a forged result: about this run, not the program
        return False
    return trace.get("status") == "ok" or (err is not None and err.get("kind") in DETERMINISTIC_ERRORS)


def encode(trace: dict) -> bytes:
    return json.dumps(trace, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class TraceService:
    """`await trace(request, produce)` → CachedTrace; `await lookup(key)` → bytes of a finished trace or None.

    `request` (code, seed, every option) names the trace; `produce()` makes it (the API's call of the runner),
    at most once per key at a time in this process.
    """

    def __init__(self, settings: Settings, shared: SharedCache | None = None):
        self.namespace = cache_namespace(settings)
        self.memory = ByteLRU(settings.trace_cache_mb * 2**20)
        self.shared = shared
        self._flights: dict[str, asyncio.Task] = {}
        self.runs = self.coalesced = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "TraceService":
        shared = SharedCache(settings.redis_url, settings.trace_cache_ttl_s) if settings.redis_url else None
        return cls(settings, shared)

    def key_of(self, request: dict) -> str:
        return trace_key(self.namespace, request)

    async def lookup(self, key: str) -> tuple[bytes, str] | None:
        body = self.memory.get(key)
        if body is not None:
            return body, "memory"
        if self.shared is not None:
            body = await self.shared.get(key)
            if body is not None:
                self.memory.put(key, body)
                return body, "shared"
        return None

    async def trace(self, request: dict, produce: Callable[[], Awaitable[dict]]) -> CachedTrace:
        """The trace of `request` ({"code", "seed", options…}): cached, joined to a run in flight, or produced now.

        An exception of `produce` (e.g. the API's 503/429 for a saturated pool) reaches every waiter, uncached.
        """
        key = self.key_of(request)
        found = await self.lookup(key)
        if found is not None:
            return CachedTrace(key, found[0], True, found[1])
        task = self._flights.get(key)
        if task is None:
            task = asyncio.create_task(self._run(key, produce))
            self._flights[key] = task
            task.add_done_callback(lambda t: self._flights.pop(key, None) if self._flights.get(key) is t else None)
            # shield: a client that hangs up must not cancel the run the others are waiting for
            return await asyncio.shield(task)
        self.coalesced += 1
        result = await asyncio.shield(task)
        return CachedTrace(key, result.body, result.cacheable, "flight")

    async def _run(self, key: str, produce: Callable[[], Awaitable[dict]]) -> CachedTrace:
        trace = await produce()
        self.runs += 1
        body = encode({**trace, "trace_key": key})
        cacheable = deterministic(trace)
        if cacheable:
            self.memory.put(key, body)
            if self.shared is not None:
                await self.shared.put(key, body)
        return CachedTrace(key, body, cacheable, "run")

    def stats(self) -> dict:
        return {"runs": self.runs, "coalesced": self.coalesced, "in_flight": len(self._flights),
                "memory": self.memory.stats(), "shared": self.shared.stats() if self.shared else None}

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()
