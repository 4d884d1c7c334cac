"""Hostile and benign programs at the same time: every benign one succeeds; a full queue answers 503."""
import asyncio
import concurrent.futures
import time

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.runner import Saturated
from gradtrace.sandbox import SandboxRunner

from .conftest import BENIGN, security_settings


def _run(coro):
    """asyncio.run on its own thread: a session-wide Playwright loop may own this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


pytestmark = pytest.mark.security

HOSTILE = [
    "while True:\n    pass\n",
    "import torch\nx = torch.ones(10**10)\n",
    "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass\n",
    "xs = []\nwhile True:\n    xs.append(' ' * 10**7)\n",
]


def benign(i: int) -> str:
    return f"import torch\nx = torch.tensor([{i}.0], requires_grad=True)\ny = x * x\ny.backward()\nprint(x.grad.item())\n"


def test_hostile_and_benign_together(sandbox):
    """The pool's whole capacity (workers + queue) is used, hostile programs interleaved with benign ones."""
    capacity = sandbox.size + sandbox.queue_size
    programs = [(HOSTILE[i % len(HOSTILE)] if i % 3 == 0 else benign(i)) for i in range(capacity)]

    async def main():
        return await asyncio.gather(*(sandbox.run(code) for code in programs))

    started = time.monotonic()
    results = _run(main())
    elapsed = time.monotonic() - started
    for i, (code, result) in enumerate(zip(programs, results)):
        if code in HOSTILE:
            assert result["status"] == "error" and result["error"]["kind"] in ("timeout", "memory"), result["error"]
        else:
            assert result["status"] == "ok", result["error"]
            assert result["stdout"] == f"{2.0 * i}\n"
    # 4 hostile runs of at most ~2 s each on 2 workers, plus the benign ones: bounded, never stuck
    assert elapsed < 15, elapsed


def test_saturation_gives_503_with_retry_after(world):
    runner = SandboxRunner(security_settings(workers=1, queue_size=1, timeout_s=2.0, idle_limit_s=5.0))
    runner.start()
    try:
        async def main():
            first = [asyncio.ensure_future(runner.run("import time\ntime.sleep(1.5)\n")) for _ in range(2)]
            await asyncio.sleep(0.2)
            with pytest.raises(Saturated) as busy:
                await runner.run(BENIGN)
            assert busy.value.retry_after >= 1
            done = await asyncio.gather(*first)
            return done, await runner.run(BENIGN)

        done, after = _run(main())
        assert [r["status"] for r in done] == ["ok", "ok"]  # the queued one ran after the first
        assert after["status"] == "ok"

        app = create_app(security_settings(), runner=runner)  # the test owns the runner: the lifespan leaves it open

        async def over_http(client):
            loop = asyncio.get_running_loop()
            hold = [asyncio.ensure_future(runner.run("import time\ntime.sleep(1.5)\n")) for _ in range(2)]
            await asyncio.sleep(0.2)
            response = await loop.run_in_executor(None, lambda: client.post("/api/v1/traces", json={"code": BENIGN}))
            await asyncio.gather(*hold)
            return response

        with TestClient(app) as client:
            response = _run(over_http(client))
            assert response.status_code == 503
            assert int(response.headers["Retry-After"]) >= 1
            assert client.post("/api/v1/traces", json={"code": BENIGN}).json()["status"] == "ok"
    finally:
        runner.close()
