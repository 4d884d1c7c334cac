"""One client cannot take the whole queue, and a run that sleeps instead of computing does not hold a
worker for the full wall-clock limit. Each shown first with the old behaviour (no client key, no idle limit),
then with the fix."""
import asyncio
import concurrent.futures
import time

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.runner import ClientBusy, Saturated
from gradtrace.sandbox import SandboxRunner

from .conftest import BENIGN, security_settings

pytestmark = pytest.mark.security
BUSY = "import time\nt = time.time()\nwhile time.time() < t + 1.0:\n    pass\n"


def _run(coro):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def small_pool(world):
    runner = SandboxRunner(security_settings(workers=1, queue_size=4, max_runs_per_client=2, timeout_s=3.0))
    runner.start()
    yield runner
    runner.close()


async def _hog_then_other(runner, hog_client):
    hog = [asyncio.ensure_future(runner.run(BUSY, 0, hog_client)) for _ in range(5)]
    await asyncio.sleep(0.3)
    try:
        other = await runner.run(BENIGN, 0, "student-b")
    except Saturated as exc:
        other = exc
    hogged = await asyncio.gather(*hog, return_exceptions=True)
    return hogged, other


def test_without_a_client_key_one_client_fills_the_queue(small_pool):
    hogged, other = _run(_hog_then_other(small_pool, None))  # the old behaviour: nobody is told apart
    assert all(isinstance(r, dict) for r in hogged)
    assert isinstance(other, Saturated) and not isinstance(other, ClientBusy)


def test_one_client_gets_its_share_and_the_other_is_served(small_pool):
    hogged, other = _run(_hog_then_other(small_pool, "student-a"))
    assert sum(isinstance(r, ClientBusy) for r in hogged) == 3
    assert sum(isinstance(r, dict) and r["status"] == "ok" for r in hogged) == 2
    assert isinstance(other, dict) and other["status"] == "ok", other


def test_forwarded_for_cannot_split_one_client_without_a_trusted_proxy(small_pool):
    # One event loop for every request, as under uvicorn; distinct programs, so the trace cache's single-flight
    # cannot merge them into one run.
    with TestClient(create_app(security_settings(max_runs_per_client=2), runner=small_pool)) as client:

        def post(i):
            return client.post("/api/v1/traces", json={"code": f"# {i}\n{BUSY}"},
                               headers={"X-Forwarded-For": f"10.9.8.{i}"})

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            statuses = sorted(r.status_code for r in pool.map(post, range(5)))
        assert statuses.count(429) == 3 and statuses.count(200) == 2, statuses
        busy = post(99)
        assert busy.status_code == 200  # the earlier runs ended: the client has its share again


def test_forwarded_for_names_the_client_behind_a_trusted_proxy():
    from gradtrace.api.clients import key_from

    assert key_from("10.0.0.2", "203.0.113.9, 10.0.0.1", "10.0.0.0/24") == "203.0.113.9"
    assert key_from("203.0.113.50", "1.1.1.1", "10.0.0.0/24") == "203.0.113.50"  # not a proxy: ignored
    assert key_from("10.0.0.2", "spoofed, 198.51.100.7", "10.0.0.0/24") == "198.51.100.7"  # right-most untrusted


SLEEPERS = {
    "time_sleep": "import time\ntime.sleep(4)\n",
    "select_timeout": "import select\nselect.select([], [], [], 4)\n",
    "blocking_pipe_read": "import os\nr, w = os.pipe()\nos.read(r, 1)\n",
    "event_wait": "import threading\nthreading.Event().wait(4)\n",
    "swallowing_sleeper": "import time\nwhile True:\n    try:\n        time.sleep(4)\n    except BaseException:\n        pass\n",
}


@pytest.fixture(scope="module")
def no_idle_limit(world):
    """The old behaviour: a sleeping run is only stopped by the wall-clock limit (2 s here: each sleeper asks for 4)."""
    runner = SandboxRunner(security_settings(workers=1, timeout_s=2.0, cpu_s=6, idle_limit_s=1000.0),
                           language_guards=False)
    runner.start()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def idle_limited(world):
    runner = SandboxRunner(security_settings(workers=1, timeout_s=4.0, cpu_s=6, idle_limit_s=0.5),
                           language_guards=False)
    runner.start()
    yield runner
    runner.close()


@pytest.mark.parametrize("name", sorted(SLEEPERS))
def test_sleeping_run_held_a_worker_for_the_whole_limit(no_idle_limit, name):
    started = time.monotonic()
    result = no_idle_limit.run_sync(SLEEPERS[name])
    assert time.monotonic() - started >= 1.9 and result["error"]["kind"] == "timeout"


@pytest.mark.parametrize("name", sorted(SLEEPERS))
def test_sleeping_run_is_stopped_early(idle_limited, name):
    started = time.monotonic()
    result = idle_limited.run_sync(SLEEPERS[name])
    elapsed = time.monotonic() - started
    assert result["error"]["kind"] == "timeout" and "slept or blocked" in result["error"]["message"], result["error"]
    assert elapsed < 3.2, elapsed  # 0.5 s idle + 1 s grace at most, with slack for a loaded machine


def test_computing_run_is_not_stopped_as_idle(idle_limited):
    result = idle_limited.run_sync("import time\nt, n = time.time(), 0\nwhile time.time() < t + 1.5:\n    n += 1\n"
                                   "print('done')\n")
    assert result["status"] == "ok" and result["stdout"] == "done\n", result["error"]


def test_client_key_of_a_request():
    from types import SimpleNamespace

    from starlette.requests import Request

    from gradtrace.api.clients import client_key

    def request(peer, xff, trusted):
        app = SimpleNamespace(state=SimpleNamespace(settings=security_settings(trusted_proxies=trusted)))
        headers = [(b"x-forwarded-for", xff.encode())] if xff else []
        return Request({"type": "http", "client": (peer, 5000), "headers": headers, "app": app})

    assert client_key(request("198.51.100.1", "203.0.113.5", "")) == "198.51.100.1"
    assert client_key(request("127.0.0.1", "203.0.113.5", "127.0.0.1")) == "203.0.113.5"
    assert client_key(request("127.0.0.1", None, "127.0.0.1")) == "127.0.0.1"
    assert client_key(request("127.0.0.1", "not-an-ip", "127.0.0.1")) == "127.0.0.1"
