"""Class sessions in Redis, for replicas: sessions, questions and tallies as keys with a TTL, changes made
atomically by Lua scripts, events fanned out to every replica through one pub/sub channel."""
import asyncio
import json
import logging
import time

from .store import Deliver

log = logging.getLogger("gradtrace.classes")
P = "gradtrace:class:"
INDEX = "gradtrace:classes"  # code -> expiry (epoch s): how many sessions are live
CHANNEL = "gradtrace:class-events"
JSON_FIELDS = ("program", "trace_key", "state", "question")


class StoreDown(Exception):
    """Redis did not answer: the API says 503 (class sessions need it once it is configured)."""


_CREATE = """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then return 'taken' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 'full' end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[1]), ARGV[4])
return 'ok'
"""
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[1]), ARGV[3])
return redis.call('HGETALL', KEYS[1])
"""
_ANSWER = """
if redis.call('EXISTS', KEYS[3]) == 0 or redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 'duplicate' end
if tonumber(redis.call('HGET', KEYS[1], 'total') or '0') >= tonumber(ARGV[3]) then return 'full' end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HINCRBY', KEYS[1], 'c' .. ARGV[2], 1)
redis.call('HINCRBY', KEYS[1], 'total', 1)
return 'ok'
"""
_HIT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n - tonumber(ARGV[1])
"""


def _doc(flat: dict) -> dict | None:
    if not flat or "seq" not in flat:
        return None
    doc = {k: json.loads(v) if k in JSON_FIELDS else v for k, v in flat.items()}
    doc["seq"] = int(doc["seq"])
    return doc


def _pairs(changes: dict) -> list[str]:
    out = []
    for k, v in changes.items():
        out += [k, json.dumps(v, separators=(",", ":")) if k in JSON_FIELDS else str(v)]
    return out


class RedisStore:
    def __init__(self, url: str, timeout_s: float = 2.0):
        import redis.asyncio as aioredis

        self.url = url
        self._redis = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=timeout_s,
                                              socket_connect_timeout=timeout_s)
        self._create = self._redis.register_script(_CREATE)
        self._update = self._redis.register_script(_UPDATE)
        self._answer = self._redis.register_script(_ANSWER)
        self._hit = self._redis.register_script(_HIT)
        self._listener: asyncio.Task | None = None
        self._deliver: Deliver | None = None

    async def _do(self, awaitable):
        try:
            return await awaitable
        except Exception as exc:  # noqa: BLE001 - Redis down or slow: the API answers 503, never 500
            raise StoreDown(str(exc)) from exc

    async def create(self, doc: dict, ttl_s: int, max_sessions: int) -> str:
        code = doc["code"]
        return await self._do(self._create(keys=[P + code, INDEX],
                                           args=[ttl_s, int(time.time()), max_sessions, code, *_pairs(doc)]))

    async def get(self, code: str) -> dict | None:
        return _doc(await self._do(self._redis.hgetall(P + code)))

    async def update(self, code: str, changes: dict, ttl_s: int) -> dict | None:
        flat = await self._do(self._update(keys=[P + code, INDEX], args=[ttl_s, int(time.time()), code,
                                                                         *_pairs(changes)]))
        return _doc(dict(zip(flat[::2], flat[1::2]))) if flat else None

    async def delete(self, code: str) -> bool:
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(P + code)
        pipe.zrem(INDEX, code)
        deleted, _ = await self._do(pipe.execute())
        return bool(deleted)

    async def existing(self, codes: list[str]) -> set[str]:
        if not codes:
            return set()
        pipe = self._redis.pipeline(transaction=False)
        for code in codes:
            pipe.exists(P + code)
        found = await self._do(pipe.execute())
        return {code for code, n in zip(codes, found) if n}

    async def add_question(self, code: str, question: dict, ttl_s: int) -> None:
        key = f"{P}{code}:q:{question['id']}"
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"data": json.dumps(question), "revealed": 0, "total": 0})
        pipe.expire(key, ttl_s)
        await self._do(pipe.execute())

    async def question(self, code: str, qid: str) -> dict | None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.exists(P + code)
        pipe.hgetall(f"{P}{code}:q:{qid}")
        alive, flat = await self._do(pipe.execute())
        if not alive or not flat:
            return None
        q = json.loads(flat["data"])
        return {**q, "revealed": flat.get("revealed") == "1", "total": int(flat.get("total", 0)),
                "counts": [int(flat.get(f"c{i}", 0)) for i in range(len(q["choices"]))]}

    async def answer(self, code: str, qid: str, follower: str, choice: int, cap: int, ttl_s: int) -> str:
        key = f"{P}{code}:q:{qid}"
        return await self._do(self._answer(keys=[key, key + ":who", P + code],
                                           args=[follower, choice, cap, ttl_s]))

    async def reveal(self, code: str, qid: str) -> dict | None:
        key = f"{P}{code}:q:{qid}"
        if not await self._do(self._redis.exists(key)):
            return None
        await self._do(self._redis.hset(key, "revealed", 1))
        return await self.question(code, qid)

    async def publish(self, code: str, seq: int, frame: bytes) -> None:
        await self._do(self._redis.publish(CHANNEL, f"{code}\n{seq}\n".encode() + frame))

    async def report_followers(self, server: str, counts: dict[str, int], ttl_s: float) -> None:
        until = time.time() + ttl_s
        pipe = self._redis.pipeline(transaction=False)
        for code, n in counts.items():
            pipe.hset(f"{P}{code}:f", server, f"{n}:{until:.0f}")
            pipe.expire(f"{P}{code}:f", int(ttl_s) + 1)
        await self._do(pipe.execute())

    async def followers(self, code: str, exclude: str | None = None) -> int:
        now, total = time.time(), 0
        for server, value in (await self._do(self._redis.hgetall(f"{P}{code}:f"))).items():
            n, _, until = value.partition(":")
            if server != exclude and float(until) > now:  # a killed replica's count lapses with its heartbeat
                total += int(n)
        return total

    async def hit(self, bucket: str, limit: int, window_s: int, cost: int = 1) -> bool:
        before = await self._do(self._hit(keys=["gradtrace:hit:" + bucket], args=[cost, window_s]))
        return int(before) < limit

    # --- fan-out ---
    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(ready))
        try:
            await asyncio.wait_for(ready.wait(), 5)
        except asyncio.TimeoutError:
            log.warning("class events: Redis pub/sub not subscribed yet; retrying in the background")

    async def _listen(self, ready: asyncio.Event) -> None:
        """Subscribe (again after any failure) and hand every event to this process's streams."""
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2, health_check_interval=10)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        code, seq, frame = message["data"].split(b"\n", 2)
                        if self._deliver is not None:
                            self._deliver(code.decode(), int(seq), frame)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis restarted or unreachable: resubscribe shortly
                log.warning("class events: Redis pub/sub failed (%s); resubscribing", exc)
                await asyncio.sleep(1.0)
            finally:
                await client.aclose()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._deliver = None
        await self._redis.aclose()
