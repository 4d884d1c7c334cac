"""A class at once, before (main) and after (this checkout), measured side by side in one run on loopback.

Each side is `gradtrace serve` with the default settings (2 sandbox workers, queue 16) started from its own
code: "before" is `git archive <ref>` of backend/ and frontend/ unpacked into a temp folder and put first on
PYTHONPATH; "after" is this checkout. Scenarios, each on a fresh server of each side:
  A. 300 identical POST /api/v1/traces at once (a program neither side has seen): status counts, p50/p95/max;
  B. 1,000 identical reads of a finished trace, 100 at a time: after = GET /api/v1/traces/{key}; before has
     no GET, so its reads are the same POST (the only way main serves a trace);
  C. 120 distinct programs at once from a client that honours Retry-After (+ jitter, at most 120 s of waiting).
Usage: .venv/bin/python bench/class_bench.py [--before main] [--json]
"""
import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = "import torch\nw = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\nloss = (w.tanh() * w).sum()\nloss.backward()\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkout(ref: str) -> Path:
    """backend/ and frontend/ of `ref`, unpacked into a temp folder."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "backend", "frontend"], check=True,
                          capture_output=True).stdout
    folder = Path(tempfile.mkdtemp(prefix="gradtrace-before-"))
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(folder, filter="data")
    return folder


class Server:
    def __init__(self, code_root: Path | None):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADTRACE_") or k == "GRADTRACE_SANDBOX_UID"}
        self.db = Path(tempfile.mkdtemp(prefix="gradtrace-bench-")) / "s.sqlite3"
        env["GRADTRACE_SNIPPET_DB"] = str(self.db)
        if code_root is not None:
            env["PYTHONPATH"] = str(code_root / "backend")
            env["GRADTRACE_FRONTEND_DIR"] = str(code_root / "frontend")
        self.proc = subprocess.Popen([sys.executable, "-m", "gradtrace.cli", "serve", "--port", str(self.port),
                                      "--log-level", "error"], env=env, cwd=self.db.parent)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/api/v1/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise SystemExit("server did not become ready")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def request(port: int, method: str, path: str, body: dict | None = None, conn=None):
    """(status, headers, seconds) of one request on a fresh (or the given keep-alive) connection."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        return resp.status, dict(resp.getheaders()), time.perf_counter() - t0
    finally:
        if own:
            conn.close()


def summary(results: list, wall: float) -> dict:
    times = sorted(r[2] for r in results)
    counts = {}
    for r in results:
        counts[r[0]] = counts.get(r[0], 0) + 1
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    return {"n": len(results), "status": dict(sorted(counts.items())), "p50_s": round(statistics.median(times), 3),
            "p95_s": round(pick(0.95), 3), "max_s": round(times[-1], 3), "wall_s": round(wall, 2)}


def at_once(n: int, job) -> tuple[list, float]:
    """`n` threads released together by a barrier, one request each."""
    barrier = threading.Barrier(n)
    t0 = time.perf_counter()

    def run(i):
        barrier.wait()
        return job(i)
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(run, range(n)))
    return results, time.perf_counter() - t0


def scenario_a(port: int, tag: str) -> dict:
    body = {"code": f"# {tag}\n{PROGRAM}"}
    results, wall = at_once(300, lambda i: request(port, "POST", "/api/v1/traces", body))
    return summary(results, wall)


def scenario_b(port: int, tag: str, after: bool) -> dict:
    body = {"code": f"# {tag}\n{PROGRAM}", "seed": 1}
    status, headers, _ = request(port, "POST", "/api/v1/traces", body)
    key = {k.lower(): v for k, v in headers.items()}.get("x-trace-key")
    local = threading.local()

    def read(i):
        local.conn = getattr(local, "conn", None) or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            if after:
                return request(port, "GET", f"/api/v1/traces/{key}", conn=local.conn)
            return request(port, "POST", "/api/v1/traces", body, conn=local.conn)
        except (OSError, http.client.HTTPException):
            local.conn = None
            return (0, {}, 0.0)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(read, range(1000)))
    return summary(results, time.perf_counter() - t0)


def scenario_c(port: int, tag: str) -> dict:
    retries = []

    def patient(i):
        body = {"code": f"# {tag} {i}\nimport torch\nx = torch.full((3,), {i}.0, requires_grad=True)\n"
                        f"(x * x + {i}).sum().backward()\n"}
        t0, waited, tries = time.perf_counter(), 0.0, 0
        while True:
            status, headers, _ = request(port, "POST", "/api/v1/traces", body)
            if status not in (429, 503) or waited >= 120:
                retries.append(tries)
                return status, headers, time.perf_counter() - t0
            after = float({k.lower(): v for k, v in headers.items()}.get("retry-after", 1))
            pause = after + random.random() * min(after, 2)  # the page's rule: Retry-After plus jitter
            time.sleep(pause)
            waited += pause
            tries += 1
    results, wall = at_once(120, patient)
    out = summary(results, wall)
    out["retries"] = sum(retries)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git ref measured as 'before' (default main)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    before = checkout(args.before)
    sides = {"before": before, "after": None}
    report = {}
    nonce = f"{time.time():.0f}"
    for name, fn in (("A 300 identical at once", lambda p, s: scenario_a(p, f"{nonce}-{s}")),
                     ("B 1000 reads of one trace", lambda p, s: scenario_b(p, f"{nonce}-{s}", s == "after")),
                     ("C 120 distinct, honouring Retry-After", lambda p, s: scenario_c(p, f"{nonce}-{s}"))):
        for side, root in sides.items():
            server = Server(root)
            try:
                report[(name, side)] = fn(server.port, side)
            finally:
                server.close()
            print(f"{name:40s} {side:6s} {report[(name, side)]}", file=sys.stderr, flush=True)
    load = os.getloadavg()
    if args.json:
        print(json.dumps({f"{k[0]} / {k[1]}": v for k, v in report.items()}, indent=1))
        return
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}\n")
    print("| scenario | side | statuses | p50 | p95 | max | wall | retries |\n|---|---|---|---:|---:|---:|---:|---:|")
    for (name, side), r in report.items():
        statuses = ", ".join(f"{n}×{s}" for s, n in r["status"].items())
        print(f"| {name} | {side} | {statuses} | {r['p50_s']} s | {r['p95_s']} s | {r['max_s']} s | {r['wall_s']} s "
              f"| {r.get('retries', '')} |")


if __name__ == "__main__":
    main()
