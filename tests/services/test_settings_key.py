"""Two replicas share one real Redis but run with different trace settings: each gets its own trace, never the
other's (issue 19: the key once listed settings by hand and missed loop_head_iterations and others)."""
import json
import os
import shutil

import pytest

from .procs import Redis, find, scratch, start_replicas
from .test_replicas import http

pytestmark = pytest.mark.services
LOOP = ("import torch\nw = torch.tensor([1.0, -1.0], requires_grad=True)\nfor i in range(20):\n"
        "    loss = (w * w).sum()\n    loss.backward()\n    with torch.no_grad():\n        w -= 0.1 * w.grad\n"
        "    w.grad.zero_()\n")


@pytest.fixture(scope="module")
def replicas():
    if not find("redis-server"):
        (pytest.fail if os.environ.get("CI") else pytest.skip)("redis-server is not installed")
    redis, work = Redis(), scratch("gt-settings-")
    base = {**os.environ, "GRADTRACE_REDIS_URL": redis.url, "GRADTRACE_WORKERS": "1"}
    started = []
    try:  # started side by side, each with its own snippet file (only Redis is shared here)
        started = start_replicas([{**base, "GRADTRACE_LOOP_HEAD_ITERATIONS": str(head), "GRADTRACE_FD_MAX_ELEMENTS":
                                   str(fd_elements), "GRADTRACE_SNIPPET_DB": str(work / f"snippets-{head}.sqlite3")}
                                  for head, fd_elements in ((2, 16), (5, 4))], work)
        yield started
    finally:
        for r in started:
            r.close()
        redis.close()
        shutil.rmtree(work, ignore_errors=True)


def recorded(body: bytes) -> int:
    return len(json.loads(body)["loops"][0]["recorded"])


def test_replicas_with_different_trace_settings_each_get_their_own_trace(replicas):
    a, b = replicas
    status, headers_a, body_a = http("POST", a.base + "/api/v1/traces", {"code": LOOP, "seed": 3})
    assert status == 200 and recorded(body_a) == 3  # its first 2 iterations and the last
    status, headers_b, body_b = http("POST", b.base + "/api/v1/traces", {"code": LOOP, "seed": 3})
    assert status == 200 and recorded(body_b) == 6  # its own run (5 + the last), not A's trace from Redis
    assert headers_b["x-gradtrace-cache"] == "run" and headers_a["x-trace-key"] != headers_b["x-trace-key"]
    # each replica's own entry is shared as usual: asked again, B answers from the cache
    status, again, body = http("POST", b.base + "/api/v1/traces", {"code": LOOP, "seed": 3})
    assert again["x-gradtrace-cache"] in ("memory", "shared") and recorded(body) == 6
    # a finite-difference request under each replica's own fd_max_elements (w has 2 elements: both allow it)
    status, _, body = http("POST", b.base + "/api/v1/traces", {"code": LOOP, "finite_difference": {"tensor": "w"}})
    assert status == 200 and json.loads(body)["finite_difference"] is not None
