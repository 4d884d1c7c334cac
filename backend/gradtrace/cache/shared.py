"""The cache all replicas share (Redis); any failure there is a miss, never an error for the user."""
import logging
import time

log = logging.getLogger("gradtrace.cache")
_PREFIX = "gradtrace:trace:"
_QUIET_S = 10.0  # after a failure, skip Redis this long instead of paying a timeout on every request


class SharedCache:
    """GET/SET of trace bytes in Redis with a TTL; `available` tells whether it answered lately."""

    def __init__(self, url: str, ttl_s: int, timeout_s: float = 0.5):
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self.ttl_s = ttl_s
        self._down_until = 0.0
        self.hits = self.misses = self.errors = 0

    def _failed(self, what: str, exc: Exception) -> None:
        self.errors += 1
        self._down_until = time.monotonic() + _QUIET_S
        log.warning("shared trace cache %s failed: %s", what, exc)

    async def get(self, key: str) -> bytes | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            value = await self._redis.get(_PREFIX + key)
        except Exception as exc:  # noqa: BLE001 - Redis down or slow: serve as a miss
            self._failed("read", exc)
            return None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    async def put(self, key: str, value: bytes) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            await self._redis.set(_PREFIX + key, value, ex=self.ttl_s)
        except Exception as exc:  # noqa: BLE001
            self._failed("write", exc)

    def stats(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "errors": self.errors}

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except Exception:  # noqa: BLE001
            pass
