"""The Redis class store against a real redis-server: the same session semantics as memory, shared by two hubs
(two replicas in one process), fan-out through pub/sub, follower counts that lapse with a dead server."""
import asyncio
import os

import pytest

from gradtrace.classes import Hub
from gradtrace.classes.hub import HEARTBEAT
from gradtrace.classes.redis_store import RedisStore
from gradtrace.config import Settings
from async_helpers import run_async
from services.procs import Redis, find


@pytest.fixture(scope="module")
def redis_url():
    if not find("redis-server"):
        (pytest.fail if os.environ.get("CI") else pytest.skip)("redis-server is not installed")
    server = Redis()
    yield server.url
    server.close()


def run(main):
    run_async(main, timeout=30)


async def two_hubs(url, **overrides):
    settings = Settings(redis_url=url, class_heartbeat_s=0.2, **overrides)
    a, b = Hub(settings, RedisStore(url)), Hub(settings, RedisStore(url))
    await a.start()
    await b.start()
    return a, b


def doc(code):
    return {"code": code, "token_hash": "h", "program": {"code": "x = 1", "seed": 0}, "trace_key": None,
            "state": {"step": 0, "view": {}}, "question": None, "seq": 1}


async def next_frame(stream, timeout=5):
    """The next event frame a stream would send (heartbeats skipped)."""
    while (data := await asyncio.wait_for(stream.queue.get(), timeout)) == HEARTBEAT:
        pass
    return data


def test_sessions_questions_and_limits_in_redis(redis_url):
    async def main():
        store = RedisStore(redis_url)
        try:
            assert await store.create(doc("RTEST1"), 60, 100) == "ok"
            assert await store.create(doc("RTEST1"), 60, 100) == "taken"
            got = await store.get("RTEST1")
            assert got["program"] == {"code": "x = 1", "seed": 0} and got["seq"] == 1 and got["trace_key"] is None
            new = await store.update("RTEST1", {"state": {"step": 4, "view": {"a": [1]}}}, 60)
            assert new["seq"] == 2 and new["state"] == {"step": 4, "view": {"a": [1]}}
            assert await store.update("NOSUCH", {"state": {}}, 60) is None
            await store.add_question("RTEST1", {"id": "0000abcd", "step": 1, "prompt": "?", "choices": ["a", "b", "c"],
                                                "correct": 2}, 60)
            outcomes = [await store.answer("RTEST1", "0000abcd", f, c, 3, 60)
                        for f, c in (("f1", 0), ("f2", 2), ("f1", 1), ("f3", 2), ("f4", 0))]
            assert outcomes == ["ok", "ok", "duplicate", "ok", "full"]
            q = await store.question("RTEST1", "0000abcd")
            assert q["counts"] == [1, 0, 2] and q["total"] == 3 and q["revealed"] is False
            assert (await store.reveal("RTEST1", "0000abcd"))["revealed"] is True
            assert [await store.hit("t:1.2.3.4", 2, 60) for _ in range(3)] == [True, True, False]
            assert await store.hit("t:1.2.3.4", 2, 60, cost=0) is False
            assert await store.existing(["RTEST1", "NOSUCH"]) == {"RTEST1"}
            assert await store.delete("RTEST1") and await store.get("RTEST1") is None
            assert await store.answer("RTEST1", "0000abcd", "f9", 0, 3, 60) == "missing"
            assert await store.create(doc("RTEST2"), 60, 1) in ("ok", "full")
            assert await store.create(doc("RTEST3"), 60, 1) == "full"  # class_max_sessions over the cluster
            await store.delete("RTEST2")
        finally:
            await store.close()
    run(main)


async def counts(a, b) -> tuple[int, int]:
    return await a.followers("RFAN01"), await b.followers("RFAN01")


async def settles(read, want, timeout: float = 15.0) -> bool:
    """Poll `await read()` until it equals `want` (True) or `timeout` seconds pass (False)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await read() != want:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def test_events_fan_out_to_the_other_hub_and_counts_add_up(redis_url):
    async def main():
        a, b = await two_hubs(redis_url)
        try:
            await a.store.create(doc("RFAN01"), 60, 100)
            on_a, on_b = await a.open("RFAN01", 1), await b.open("RFAN01", 1)
            await b.open("RFAN01", 1)
            # each hub's flush reports its counts soon after they change: poll, a loaded machine may take a while
            assert await settles(lambda: counts(a, b), (3, 3)), await counts(a, b)
            new = await a.store.update("RFAN01", {"state": {"step": 9, "view": {}}}, 60)
            await a.publish_state(new)  # published on A ...
            for stream in (on_a, on_b):  # ... delivered on both
                data = await next_frame(stream)
                assert b'"step":9' in data and data.startswith(b"id: 2\nevent: state\n")
            await b.close()  # B goes away without saying so: its count lapses after 3 heartbeats
            assert await settles(lambda: a.followers("RFAN01"), 1), await a.followers("RFAN01")
        finally:
            await a.close()
    run(main)


def test_a_session_deleted_elsewhere_ends_local_streams(redis_url):
    async def main():
        a, b = await two_hubs(redis_url)
        try:
            await a.store.create(doc("REND01"), 60, 100)
            stream = await b.open("REND01", 1)
            await a.store.delete("REND01")  # no event published: B's heartbeat notices
            data = await next_frame(stream)
            assert data.startswith(b"event: end\n") and await next_frame(stream) is None
        finally:
            await a.close()
            await b.close()
    run(main)
