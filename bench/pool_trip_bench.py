"""The cost of one trip to the check pool for a small frame, before and after, in one run.

`CheckPool.check_render` of the frame a sandbox child sends for a two-line program (3 KB), one at a time from an
asyncio loop (uvloop when installed, as the server), then the same trip with a task that does nothing (the pure
transport). Figures per trip: wall-clock median, and CPU of the calling process (every thread of it: the loop,
and for a ProcessPoolExecutor its feeder and manager threads) and of the pool's processes.

Usage: .venv/bin/python bench/pool_trip_bench.py [--before-path /tmp/old/backend] [--trips 2000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

TWO_LINES = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\n"

# Runs in a fresh interpreter (PYTHONPATH picks the build): prints one JSON line of figures.
TRIP = r"""
import asyncio, json, os, statistics, sys, time
from gradtrace.config import Settings
from gradtrace.wire import pool as wire_pool
frame, trips = open(sys.argv[1], "rb").read(), int(sys.argv[2])
TCK = os.sysconf("SC_CLK_TCK")

def pool_cpu():
    total = 0.0
    for t in os.listdir("/proc/self/task"):
        for c in open(f"/proc/self/task/{t}/children").read().split():
            f = open(f"/proc/{c}/stat").read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / TCK
    return total

async def main():
    checks = wire_pool.CheckPool(Settings(check_workers=2))
    out = {}
    for name, call in (("check_render", lambda: checks.check_render(frame, "compact", 2, "k" * 32, "a")),
                       ("empty task", lambda: checks._call("a", len, b"x"))):
        for _ in range(100):
            await call()
        took, cpu0, pool0 = [], time.process_time(), pool_cpu()
        for _ in range(trips):
            t = time.perf_counter()
            await call()
            took.append(time.perf_counter() - t)
        out[name] = {"wall_ms": round(statistics.median(took) * 1000, 3),
                     "caller_cpu_ms": round((time.process_time() - cpu0) / trips * 1000, 3),
                     "pool_cpu_ms": round((pool_cpu() - pool0) / trips * 1000, 3)}
    checks.close()
    print(json.dumps(out))

try:
    import uvloop
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
"""


def run(pythonpath: str | None, frame: str, trips: int) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run([sys.executable, "-c", TRIP, frame, str(trips)], env=env, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before-path", help="a directory whose gradtrace package is the old code (PYTHONPATH)")
    ap.add_argument("--trips", type=int, default=2000)
    args = ap.parse_args()
    from gradtrace.tracer import trace

    with tempfile.TemporaryDirectory() as tmp:
        frame = os.path.join(tmp, "frame.json")
        with open(frame, "wb") as f:
            f.write(json.dumps(trace(TWO_LINES, format="compact", compact_version=1)).encode())
        builds = ([("before", args.before_path)] if args.before_path else []) + [("after", None)]
        rows = [(label, run(path, frame, args.trips)) for label, path in builds]
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| build | trip | wall ms (median) | caller CPU ms | pool CPU ms |")
    print("|---|---|---:|---:|---:|")
    for label, figures in rows:
        for trip, f in figures.items():
            print(f"| {label} | {trip} | {f['wall_ms']} | {f['caller_cpu_ms']} | {f['pool_cpu_ms']} |")


if __name__ == "__main__":
    main()
