"""Two gradtrace replicas behind nginx on real PostgreSQL and Redis: shared snippets, a shared trace cache, a
replica killed mid-burst, and the no-service default. No mocks: every piece is the real program on loopback."""
import json
import os
import shutil
import signal
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from .procs import Nginx, Postgres, Redis, Replica, missing, scratch, start_replicas

pytestmark = pytest.mark.services
PROGRAM = "import torch\nw = torch.tensor([0.5, -2.0], requires_grad=True)\n(w.exp() * w).sum().backward()\n"


def http(method: str, url: str, body=None, headers=None, timeout=60):
    """(status, headers (case-insensitive), bytes) of one request; HTTP errors are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def cache_stats(replica: Replica) -> dict:
    return json.loads(http("GET", replica.base + "/api/v1/health")[2])["cache"]


@pytest.fixture(scope="module")
def cluster():
    lacking = missing()
    if lacking:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{lacking} is not installed (make install-test installs it)")
    pg, redis = Postgres(), Redis()
    work = scratch("gt-replicas-")
    env = {**os.environ, "GRADTRACE_DATABASE_URL": pg.url, "GRADTRACE_REDIS_URL": redis.url,
           "GRADTRACE_TRUSTED_PROXIES": "127.0.0.1", "GRADTRACE_WORKERS": "1", "GRADTRACE_QUEUE_SIZE": "32",
           # the test's burst comes from one address (it stands for a class): the per-client share must not refuse it
           "GRADTRACE_MAX_RUNS_PER_CLIENT": "64"}
    replicas, nginx = [], None
    try:
        replicas = start_replicas([env, env], work)
        nginx = Nginx(replicas)
        yield {"pg": pg, "redis": redis, "a": replicas[0], "b": replicas[1], "nginx": nginx}
    finally:
        if nginx:
            nginx.close()
        for r in replicas:
            r.close()
        redis.close()
        pg.close()
        shutil.rmtree(work, ignore_errors=True)


def test_snippet_made_on_one_replica_opens_on_the_other(cluster):
    a, b = cluster["a"], cluster["b"]
    status, _, body = http("POST", a.base + "/api/v1/snippets", {"code": PROGRAM, "seed": 11})
    assert status == 201
    sid = json.loads(body)["id"]
    status, _, body = http("GET", b.base + f"/api/v1/snippets/{sid}")
    assert status == 200 and json.loads(body)["code"] == PROGRAM and json.loads(body)["seed"] == 11
    req = urllib.request.Request(b.base + f"/s/{sid}")
    opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                              {"redirect_request": lambda *a, **k: None}))
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(req, timeout=10)
    assert redirect.value.code == 303 and redirect.value.headers["Location"] == f"/?s={sid}"
    # and through the front door, with the snippet's trace as a cacheable GET
    status, headers, body = http("GET", cluster["nginx"].base + f"/api/v1/snippets/{sid}/trace")
    assert status == 200 and json.loads(body)["status"] == "ok" and "immutable" in headers["Cache-Control"]


def test_trace_cached_by_one_replica_is_served_by_the_other_without_a_run(cluster):
    a, b = cluster["a"], cluster["b"]
    code = PROGRAM + "# shared-cache check\n"
    runs_before = cache_stats(b)["runs"]
    status, headers, made = http("POST", a.base + "/api/v1/traces", {"code": code, "seed": 5})
    assert status == 200 and headers["X-Gradtrace-Cache"] == "run"
    key = headers["X-Trace-Key"]
    status, headers, got = http("GET", b.base + f"/api/v1/traces/{key}")
    assert status == 200 and got == made and headers["X-Gradtrace-Cache"] == "shared"
    status, headers, again = http("POST", b.base + "/api/v1/traces", {"code": code, "seed": 5})
    assert status == 200 and again == made and headers["X-Gradtrace-Cache"] in ("memory", "shared")
    assert cache_stats(b)["runs"] == runs_before  # B never ran it in its sandbox


def test_front_door_serves_repeats_from_its_cache_and_answers_304(cluster):
    nginx = cluster["nginx"]
    _, headers, made = http("POST", nginx.base + "/api/v1/traces", {"code": PROGRAM, "seed": 6})
    key = headers["X-Trace-Key"]
    statuses = [http("GET", nginx.base + f"/api/v1/traces/{key}")[1]["X-Cache-Status"] for _ in range(3)]
    assert statuses[-1] == "HIT", statuses
    assert http("GET", nginx.base + f"/api/v1/traces/{key}", headers={"If-None-Match": f'"{key}"'})[0] == 304
    assert http("GET", nginx.base + "/")[0] == 200


def test_front_door_limits(cluster):
    nginx = cluster["nginx"]
    big = {"code": "x = 1\n" + "#" * 200_000}
    assert http("POST", nginx.base + "/api/v1/traces", big)[0] == 413
    assert http("GET", nginx.base + "/api/v1/health", headers={"X-Big": "y" * 40_000})[0] in (400, 431, 494)


def test_sqlite_default_works_with_no_service(cluster):
    work = scratch("gt-sqlite-")
    env = {k: v for k, v in os.environ.items() if k not in ("GRADTRACE_DATABASE_URL", "GRADTRACE_REDIS_URL")}
    env.update(GRADTRACE_SNIPPET_DB=str(work / "snippets.sqlite3"), GRADTRACE_WORKERS="1")
    solo = Replica(env, work)
    try:
        status, _, body = http("POST", solo.base + "/api/v1/snippets", {"code": PROGRAM})
        sid = json.loads(body)["id"]
        assert status == 201 and json.loads(http("GET", solo.base + f"/api/v1/snippets/{sid}")[2])["code"] == PROGRAM
        status, headers, _ = http("POST", solo.base + "/api/v1/traces", {"code": PROGRAM})
        assert status == 200 and http("GET", solo.base + f"/api/v1/traces/{headers['X-Trace-Key']}")[0] == 200
        assert cache_stats(solo)["shared"] is None and (work / "snippets.sqlite3").exists()
    finally:
        solo.close()
        shutil.rmtree(work, ignore_errors=True)


def test_replica_killed_mid_burst_loses_no_request_nginx_could_retry(cluster):
    """Runs last: replica A is SIGKILLed while a burst of new programs and cached reads is in flight."""
    a, nginx = cluster["a"], cluster["nginx"]
    _, headers, _ = http("POST", nginx.base + "/api/v1/traces", {"code": PROGRAM, "seed": 8})
    key = headers["X-Trace-Key"]
    # Each program computes for a while (~0.1–0.3 s), so A is still busy with part of the burst when it is killed.
    jobs = [("POST", "/api/v1/traces", {"code": f"import torch\nx = torch.ones(3, requires_grad=True)\n"
                                                f"for k in range(150):\n    z = torch.ones(200, 200) @ torch.ones(200, 200)\n"
                                                f"(x * {i}).sum().backward()\n"}) for i in range(12)]
    jobs += [("GET", f"/api/v1/traces/{key}", None), ("GET", "/api/v1/health", None), ("GET", "/", None)] * 6

    def one(job):
        method, path, body = job
        return http(method, nginx.base + path, body, timeout=90)[0]

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(one, job) for job in jobs]
        deadline = time.time() + 10
        while cache_stats(a)["in_flight"] < 2 and time.time() < deadline:  # A is busy with part of the burst
            time.sleep(0.02)
        in_flight = cache_stats(a)["in_flight"]
        a.close(signal.SIGKILL)
        statuses = [f.result() for f in futures]
    assert in_flight >= 2, "the kill came after A had finished: the burst proved nothing"
    assert statuses == [200] * len(jobs), statuses
    log = nginx.error_log()  # nginx saw the dead replica and retried on the other
    assert "upstream" in log and ("prematurely closed" in log or "reset by peer" in log or "refused" in log), log[-2000:]
    after = [http("POST", nginx.base + "/api/v1/traces", {"code": f"y = {i}\n"})[0] for i in range(4)]
    assert after == [200] * 4
