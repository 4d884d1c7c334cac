"""CPU per uncached trace of the API server process and its check pool alone, before and after, in one run.

The sandbox is replaced by a canned runner (the real frame a child sends for a two-line program, returned at
once), so what is measured is everything between the request arriving and the answer leaving: uvicorn + the
door, FastAPI and pydantic, the cache lookup and store, the trip to the check pool, the check and the compact-v2
render there, the answer's encoding. Every request has a fresh seed, so nothing is a cache hit.

Figures: CPU milliseconds per trace of the server process and of the pool processes (from /proc, utime + stime,
so kernel time of the sockets counts), and the wall-clock p50 with one client. CPU per trace is the figure to
trust on a shared machine; the wall-clock p50 depends on the load (printed).

Usage: .venv/bin/python bench/server_cpu_bench.py [--before-path /tmp/old/backend] [--requests 2000] [--rounds 3]
(--before-path: a directory whose gradtrace package is the old code, e.g. `git archive <ref> backend | tar -x`.)
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

from server_bench import TWO_LINES, clients_back_to_back, free_port, print_rows  # bench/ is the script's own folder

TCK = os.sysconf("SC_CLK_TCK")

# The server: the real app and door, the sandbox replaced by a runner that answers the canned frame at once.
SERVER = r"""
import sys
from gradtrace.api.app import create_app
from gradtrace.api.door import serve
from gradtrace.config import Settings

FRAME = open(sys.argv[2], "rb").read()

class Canned:
    async def run(self, code, seed, raw=False, **options):
        return FRAME
    def run_payload(self, code, seed=0, finite_difference=None):
        return FRAME
    def health(self):
        return {"runner": "canned", "ready": True}
    def close(self):
        pass

settings = Settings(snippet_db=sys.argv[3])
serve(create_app(settings, Canned()), settings, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def cpu_s(pid: int, children: bool = False) -> float:
    """utime + stime of `pid` (children=True: of its live child processes instead)."""
    pids = [pid]
    if children:
        pids = [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in open(f"/proc/{pid}/task/{t}/children").read().split()]
    total = 0.0
    for p in pids:
        fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TCK
    return total


def post(conn: http.client.HTTPConnection, seed: int) -> float:
    body = json.dumps({"code": TWO_LINES, "seed": seed, "format": "compact", "compact_version": 2})
    started = time.perf_counter()
    conn.request("POST", "/api/v1/traces", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200 and b'"status":"ok"' in data and r.headers["X-Gradtrace-Cache"] == "run", (r.status, data[:200])
    return time.perf_counter() - started


def measure(pythonpath: str | None, label: str, frame: str, requests: int, clients: int) -> dict:
    port = free_port()
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    db = f"/tmp/gt-cpu-bench-{port}.db"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), frame, db], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seeds = iter(range(10**6, 10**9))
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                post(conn, next(seeds))
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.1)
        for _ in range(200):  # warm: the pool's processes, the interpreter's caches
            post(conn, next(seeds))
        server0, pool0, load0 = cpu_s(proc.pid), cpu_s(proc.pid, children=True), os.getloadavg()[0]
        took, wall = clients_back_to_back(port, post, seeds, requests, clients)
        server, pool = cpu_s(proc.pid) - server0, cpu_s(proc.pid, children=True) - pool0
        n = len(took)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # the first one idled past keep-alive
        server1, pool1, one = cpu_s(proc.pid), cpu_s(proc.pid, children=True), []
        for _ in range(300):  # one client, 10 ms apart: the loop wakes for each request alone
            one.append(post(conn, next(seeds)))
            time.sleep(0.01)
        server1, pool1 = cpu_s(proc.pid) - server1, cpu_s(proc.pid, children=True) - pool1
        one.sort()
        return {"build": label, "server_cpu_ms": round(server / n * 1000, 2), "pool_cpu_ms": round(pool / n * 1000, 2),
                "total_cpu_ms": round((server + pool) / n * 1000, 2), f"{clients}_clients_per_s": round(n / wall),
                "p50_one_client_ms": round(one[len(one) // 2] * 1000, 2),
                "one_client_server_cpu_ms": round(server1 / len(one) * 1000, 2),
                "one_client_pool_cpu_ms": round(pool1 / len(one) * 1000, 2), "load": f"{load0:.1f}-{os.getloadavg()[0]:.1f}"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if os.path.exists(db):
            os.unlink(db)


def canned_frame(path: str) -> None:
    """The bytes a sandbox child sends for the two-line program (compact version 1, as sandbox/child.py asks)."""
    from gradtrace.tracer import trace

    with open(path, "wb") as f:
        f.write(json.dumps(trace(TWO_LINES, seed=0, format="compact", compact_version=1)).encode())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before-path", help="a directory whose gradtrace package is the old code (PYTHONPATH)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2, help="before/after pairs, interleaved")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        frame = os.path.join(tmp, "frame.json")
        canned_frame(frame)
        rows = []
        for _ in range(args.rounds):
            if args.before_path:
                rows.append(measure(args.before_path, "before", frame, args.requests, args.clients))
            rows.append(measure(None, "after", frame, args.requests, args.clients))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print_rows(rows)


if __name__ == "__main__":
    main()
