"""The runner behind a cache: identical requests share one run; one checked (canonical) trace is kept per program,
seed and content option, in memory and Redis; the format a request asks for is made from it on request.

Keys: a request's *view key* (code, seed and every option, `format` included) is what clients see and GET; its
*content key* (the same without the format options) names the canonical trace. An alias maps a view key to its
content key, so a GET of any view finds the one entry."""
import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..config import Settings
from ..runner import current_client
from ..sandbox.results import error_trace
from ..wire.check import Invalid, encode as encode_trace
from ..wire.pool import CheckPool
from .keys import cache_namespace, trace_key
from .lru import ByteLRU
from .shared import SharedCache

log = logging.getLogger("gradtrace.cache")
SANDBOX_ERROR = "SandboxError"
# Error kinds a rerun reproduces exactly; timeouts, memory and sandbox failures depend on load and are retried.
DETERMINISTIC_ERRORS = frozenset({"syntax", "runtime", "refused", "limit"})
VIEW_OPTIONS = ("format", "compact_version")  # options that change the form of the answer, not its content
_ALIAS = "alias:"


@dataclass(frozen=True)
class CachedTrace:
    key: str
    body: bytes  # the trace as JSON, with "trace_key"
    cacheable: bool
    source: str  # "run" (this request ran it), "flight" (shared a run), "memory" or "shared"


def deterministic(meta: dict) -> bool:
    """Whether the same request always gives this trace (so it may be cached), from wire.check.meta."""
    if meta.get("error_type") == SANDBOX_ERROR or meta.get("load_dependent"):
        return False  # about this run (a forged result, a check cut short under load), not about the program
    return meta.get("status") == "ok" or meta.get("error_kind") in DETERMINISTIC_ERRORS


def view_of(request: dict) -> tuple[str, int]:
    fmt = request.get("format") or "full"
    return fmt, int(request.get("compact_version") or 1) if fmt == "compact" else 1


def encode(trace: dict) -> bytes:
    return json.dumps(trace, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


_MALFORMED = encode_trace(error_trace("runtime", SANDBOX_ERROR, "the program's sandboxed process returned a malformed "
                                                                 "trace"))
_UNCACHEABLE = {"status": "error", "error_kind": "runtime", "error_type": SANDBOX_ERROR, "load_dependent": False}


class TraceService:
    """`await trace(request, produce)` → CachedTrace; `await lookup(key)` → (bytes, source) of a finished trace or None.

    `request` (code, seed, every option) names the trace; `produce()` makes it (the API's call of the runner: a
    trace dict, or a run's unchecked result bytes), at most once per content key at a time in this process.
    Checking, converting and encoding happen in `pool` (processes), never on the event loop.
    """

    def __init__(self, settings: Settings, shared: SharedCache | None = None, pool: CheckPool | None = None):
        self.namespace = cache_namespace(settings)
        self.memory = ByteLRU(settings.trace_cache_mb * 2**20)
        self.shared = shared
        self.pool = pool or CheckPool(settings)
        self._flights: dict[str, asyncio.Task] = {}
        self.runs = self.coalesced = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "TraceService":
        shared = SharedCache(settings.redis_url, settings.trace_cache_ttl_s) if settings.redis_url else None
        return cls(settings, shared)

    def key_of(self, request: dict) -> str:
        return trace_key(self.namespace, request)

    def content_key_of(self, request: dict) -> str:
        content = {k: v for k, v in request.items() if k not in VIEW_OPTIONS}
        return trace_key(self.namespace + "\ncontent", content)

    async def _get(self, key: str) -> tuple[bytes, str] | None:
        body = self.memory.get(key)
        if body is not None:
            return body, "memory"
        if self.shared is not None:
            body = await self.shared.get(key)
            if body is not None:
                self.memory.put(key, body)
                return body, "shared"
        return None

    async def _keep(self, key: str, body: bytes) -> None:
        self.memory.put(key, body)
        if self.shared is not None:
            await self.shared.put(key, body)

    async def _view(self, key: str, content: str, canonical: bytes, fmt: str, version: int) -> bytes:
        """The view `key` rendered from a cacheable canonical trace, remembered."""
        body = await self.pool.render(canonical, fmt, version, key, current_client())
        await self._remember(key, content, body, fmt, version)
        return body

    async def _remember(self, key: str, content: str, body: bytes, fmt: str, version: int) -> None:
        """A rendered view kept here, and its alias (view key → content key) for every replica."""
        self.memory.put(key, body)
        alias = json.dumps({"content": content, "format": fmt, "compact_version": version}).encode()
        await self._keep(_ALIAS + key, alias)

    async def lookup(self, key: str) -> tuple[bytes, str] | None:
        """A finished trace by its view key: rendered here before, or rendered now from its canonical entry."""
        body = self.memory.get(key)
        if body is not None:
            return body, "memory"
        alias = await self._get(_ALIAS + key)
        if alias is None:
            return None
        view = json.loads(alias[0])
        found = await self._get(view["content"])
        if found is None:
            return None
        body = await self._view(key, view["content"], found[0], view["format"], view["compact_version"])
        return body, found[1]

    async def trace(self, request: dict, produce: Callable[[], Awaitable[dict | bytes]]) -> CachedTrace:
        """The trace of `request` ({"code", "seed", options…}): cached, joined to a run in flight, or produced now.

        An exception of `produce` (e.g. the API's 503/429 for a saturated pool) reaches every waiter, uncached;
        render.TooLarge when the asked form is over max_answer_bytes.
        """
        key, content = self.key_of(request), self.content_key_of(request)
        fmt, version = view_of(request)
        body = self.memory.get(key)
        if body is not None:
            return CachedTrace(key, body, True, "memory")
        found = await self._get(content)
        if found is not None:
            return CachedTrace(key, await self._view(key, content, found[0], fmt, version), True, found[1])
        task = self._flights.get(content)
        source = "flight"
        if task is None:
            source = "run"
            task = asyncio.create_task(self._run(content, produce, fmt, version, key))
            self._flights[content] = task
            task.add_done_callback(lambda t: self._flights.pop(content, None) if self._flights.get(content) is t else None)
        else:
            self.coalesced += 1
        # shield: a client that hangs up must not cancel the run the others are waiting for
        canonical, cacheable, rendered = await asyncio.shield(task)
        body = rendered.get(key)
        if body is None:
            body = await self.pool.render(canonical, fmt, version, key, current_client())
        if cacheable:
            await self._remember(key, content, body, fmt, version)
        return CachedTrace(key, body, cacheable, source)

    async def _run(self, content: str, produce: Callable[[], Awaitable[dict | bytes]], fmt: str, version: int,
                   key: str) -> tuple[bytes, bool, dict]:
        """Run once, then check and render the first asker's view in one trip to the pool."""
        result = await produce()
        self.runs += 1
        try:
            canonical, meta, body = await self.pool.check_render(result, fmt, version, key, current_client())
        except (Invalid, MemoryError) as exc:
            log.warning("a run's result failed its check: %s", str(exc)[:300])
            return _MALFORMED, False, {}
        cacheable = deterministic(meta)
        if cacheable:
            await self._keep(content, canonical)
        return canonical, cacheable, ({key: body} if body is not None else {})

    def stats(self) -> dict:
        return {"runs": self.runs, "coalesced": self.coalesced, "in_flight": len(self._flights),
                "memory": self.memory.stats(), "shared": self.shared.stats() if self.shared else None,
                "checks": self.pool.stats()}

    async def close(self) -> None:
        self.pool.close()
        if self.shared is not None:
            await self.shared.close()
