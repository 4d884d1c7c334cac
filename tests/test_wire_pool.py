"""The check pool's own transport (wire/pool.py + wire/checker.py: one socket per process, driven by the event loop):
answers of any size come back intact, errors keep their meaning, a dead process is replaced, a caller that gives up
does not cost the pool its process, and more tasks than processes wait their turn."""
import asyncio
import os

import pytest

from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner
from gradtrace.wire import check, pool as wire_pool, render

from async_helpers import run_async

CODE = "import torch\nx = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n(x * x).sum().backward()\n"
# 60 tensors of 256 distinct values, each sent whole: an answer of several reads of the socket
BIG = "import torch\nx0 = torch.linspace(-1, 1, 256, requires_grad=True)\n" + "".join(
    f"x{i} = x{i - 1} * 1.01 + 0.001\n" for i in range(1, 30)) + "x29.sum().backward()\n"


def _die():
    os._exit(3)


def _bytes(n: int) -> bytes:
    return b"x" * n


def _sleep(seconds: float) -> str:
    import time

    time.sleep(seconds)
    return "slept"


@pytest.fixture(scope="module")
def frames() -> dict:
    import json

    runner = InProcessRunner()
    return {name: json.dumps(runner.run_sync(code)).encode() for name, code in (("small", CODE), ("big", BIG))}


def pool(**overrides) -> wire_pool.CheckPool:
    return wire_pool.CheckPool(Settings(**{"check_workers": 1, **overrides}))


@pytest.mark.parametrize("name", ["small", "big"])
def test_check_and_render_through_the_pool_match_the_same_work_in_process(frames, name):
    checks = pool()
    key = "k" * 32
    try:
        canonical, meta, body = run_async(lambda: checks.check_render(frames[name], "compact", 2, key, "a"))
    finally:
        checks.close()
    want, want_meta = check.check_frame(frames[name], Settings().max_tensor_elements)
    assert canonical == want and meta == want_meta and meta["status"] == "ok"
    assert body == render.render(want, "compact", 2, key, Settings().max_answer_bytes)
    if name == "big":
        assert len(body) > 200_000  # more than one read of the socket
    assert checks.tasks == 1 and checks.cpu_s > 0


def test_errors_keep_their_meaning(frames):
    checks = pool(max_answer_bytes=100_000)

    async def main():
        with pytest.raises(check.Invalid, match="JSON|json|EOF|invalid"):
            await checks.check(b'{"version": 1, "status": "ok", "code": "x"', "a")
        canonical, _ = await checks.check(frames["big"], "a")
        with pytest.raises(render.TooLarge) as big:
            await checks.render(canonical, "full", 1, "k" * 32, "a")
        assert big.value.cap == 100_000 and big.value.size > 100_000
        # check_render still answers the canonical trace when only the asked form is too large
        again, meta, body = await checks.check_render(frames["big"], "full", 1, "k" * 32, "a")
        assert again == canonical and body is None and meta["status"] == "ok"

    try:
        run_async(main)
    finally:
        checks.close()
    assert checks.broken == 0


def test_a_process_that_dies_is_an_invalid_result_and_is_replaced(frames):
    checks = pool()

    async def main():
        with pytest.raises(check.Invalid, match="died"):
            await checks._call("a", _die)
        first = checks._procs[0] if checks._procs else None
        _, meta = await checks.check(frames["small"], "b")
        # and one killed while idle is noticed before it is handed a task
        checks._procs[0].proc.kill()
        checks._procs[0].proc.wait()
        _, again = await checks.check(frames["small"], "c")
        return first, meta, again

    try:
        first, meta, again = run_async(main)
    finally:
        checks.close()
    assert first is None or not first.alive
    assert meta["status"] == again["status"] == "ok" and checks.broken == 2


def test_a_caller_that_gives_up_leaves_the_process_to_finish_and_be_reused(frames):
    checks = pool()

    async def main():
        waiting = asyncio.create_task(checks._call("a", _sleep, 0.5))
        await asyncio.sleep(0.3)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        proc = checks._procs[0]
        _, meta = await checks.check(frames["small"], "b")  # waits for the sleep to end, on the same process
        return proc, meta

    try:
        proc, meta = run_async(main)
        assert meta["status"] == "ok" and checks._procs == [proc] and proc.alive and checks.broken == 0
    finally:
        checks.close()


def test_more_tasks_than_processes_wait_their_turn(frames):
    checks = pool(check_workers=2)

    async def main():
        results = await asyncio.gather(*(checks.check(frames["small"], f"client{i}") for i in range(7)))
        return results, len(checks._procs)

    try:
        results, procs = run_async(main)
    finally:
        checks.close()
    assert len({canonical for canonical, _ in results}) == 1 and procs == 2 and checks.tasks == 7


def test_an_answer_over_its_announced_cap_is_refused_before_it_is_read():
    checks = pool()
    checks.max_answer = 10_000  # the processes are started with it on first use

    async def main():
        assert await checks._call("a", _bytes, 9_000) == b"x" * 9_000
        with pytest.raises(check.Invalid, match="died"):
            await checks._call("a", _bytes, 20_000)
        return await checks._call("b", _bytes, 10)

    try:
        assert run_async(main) == b"xxxxxxxxxx" and checks.broken == 1
    finally:
        checks.close()
