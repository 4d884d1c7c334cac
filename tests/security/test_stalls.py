"""No program stalls the server (issue 19). One client runs each hostile program at its full allowed concurrency
(max_runs_per_client) against a real `gradtrace serve` process, while /api/v1/health is probed every 50 ms: health
answers within 1 s, is slower than 250 ms at most 5% of the time, and the server's memory stays bounded.

The programs (stall_attacks.py) made the old server check, convert and encode their results on its event loop:
bench/stall_bench.py measures the old code on the same frames (seconds of GIL per run) against the new check."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gradtrace.wire.check import check_frame
from gradtrace.wire.render import full_size

from .stall_attacks import ATTACKS, BIG_FULL, FORGED_ROW

pytestmark = pytest.mark.security
ATTACK_S = 6.0
PROBE_S = 0.05
CONCURRENCY = 4  # Settings.max_runs_per_client's default: all one client may run at once
RSS_GROWTH_MB = 400  # the server process (event loop) may not grow more than this under any attack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base: str, body: dict, timeout: float = 60) -> tuple[int, bytes]:
    req = urllib.request.Request(base + "/api/v1/traces", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def rss_mb(pid: int) -> float:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@pytest.fixture(scope="module")
def server(world):
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "GRADTRACE_SNIPPET_DB": f"/tmp/gt-stall-{port}.sqlite3"}
    env.pop("GRADTRACE_REDIS_URL", None)
    log = open(f"/tmp/gt-stall-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, str(root / "tests" / "security" / "stall_server.py"), str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None and time.time() < deadline, "the server did not start"
        time.sleep(0.3)
    post(base, {"code": "x = 1\n", "format": "full"})  # the check pool's processes start on first use
    yield base, proc
    proc.terminate()
    proc.wait(timeout=30)
    log.close()
    Path(f"/tmp/gt-stall-{port}.sqlite3").unlink(missing_ok=True)


def attack(base: str, pid: int, code: str, fmt: str) -> dict:
    """CONCURRENCY attackers for ATTACK_S (a fresh seed each run: never a cache hit) and a health probe every
    PROBE_S; the probe latencies, the attack's answers and the server's peak RSS."""
    stop, statuses, latencies, peak = threading.Event(), [], [], [rss_mb(pid)]
    seeds = iter(range(1, 10**9))
    lock = threading.Lock()

    def attacker():
        while not stop.is_set():
            with lock:
                seed = next(seeds)
            status, body = post(base, {"code": code, "seed": seed, "format": fmt})
            statuses.append((status, body[:300]))

    def probe():
        while not stop.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(base + "/api/v1/health", timeout=10) as r:
                    r.read()
            except OSError:
                pass
            latencies.append(time.monotonic() - started)
            peak.append(rss_mb(pid))
            time.sleep(max(0.0, PROBE_S - (time.monotonic() - started)))

    threads = [threading.Thread(target=attacker) for _ in range(CONCURRENCY)] + [threading.Thread(target=probe)]
    for t in threads:
        t.start()
    time.sleep(ATTACK_S)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    return {"latencies": latencies, "statuses": statuses, "peak_rss_mb": max(peak), "start_rss_mb": peak[0]}


EXPECTED = {"big_full": {200}, "forged_row": {413}, "digit_warnings": {200}, "tiny_records": {200}}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_health_stays_responsive_while_one_client_attacks(server, name):
    base, proc = server
    out = attack(base, proc.pid, ATTACKS[name], "full")
    lat = sorted(out["latencies"])
    slow = sum(1 for x in lat if x > 0.25) / len(lat)
    codes = {s for s, _ in out["statuses"]}
    print(f"{name}: {len(out['statuses'])} runs, answers {codes}, health p50 {lat[len(lat) // 2] * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms, slow {slow:.1%}, server RSS {out['start_rss_mb']:.0f} → {out['peak_rss_mb']:.0f} MB")
    assert out["statuses"] and codes <= EXPECTED[name] | {429}, out["statuses"][:3]  # the attack ran, never a 500
    assert codes & EXPECTED[name]
    assert lat[-1] < 1.0 and slow <= 0.05, (lat[-1], slow)
    assert out["peak_rss_mb"] - out["start_rss_mb"] < RSS_GROWTH_MB
    status, body = post(base, {"code": "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\n"})
    assert status == 200 and json.loads(body)["status"] == "ok"  # and the server still serves everyone


def test_a_full_answer_past_the_cap_is_a_413_that_names_the_compact_format(server):
    base, _ = server
    status, body = post(base, {"code": FORGED_ROW, "seed": 7, "format": "full"})
    assert status == 413 and '"format": "compact"' in json.loads(body)["detail"]
    status, body = post(base, {"code": FORGED_ROW, "seed": 7, "format": "compact", "compact_version": 2})
    assert status == 200 and json.loads(body)["status"] == "ok"  # the same run, from the one cached entry


def test_the_attacks_expand_far_past_their_frames(sandbox_frames):
    """What the old server built on its event loop for each run (no timing: sizes): the full form of (a) is ~20x its
    frame, the forged row of (b) expands past any cap (the new bound stops counting at it)."""
    frame, _ = check_frame(sandbox_frames["big_full"], 256)
    assert full_size(json.loads(frame), len(frame), 10**12) > 15 * len(frame)
    frame, _ = check_frame(sandbox_frames["forged_row"], 256)
    assert full_size(json.loads(frame), len(frame), 10**12) > 5 * 10**9


@pytest.fixture(scope="module")
def sandbox_frames(os_only_sandbox):
    return {name: os_only_sandbox.run_payload(code, 1) for name, code in (("big_full", BIG_FULL), ("forged_row", FORGED_ROW))}
