"""CPU per run of the sandbox alone (no HTTP, no check pool): what one warm, uncached run costs all processes.

Starts a `SandboxRunner` in this process (every isolation layer on), then runs a two-line program with a fresh
seed per run, either back to back from `--clients` threads (load: spares get no idle time) or one at a time with
`--gap-ms` between runs (idle time for the spares' pretouch). CPU per run is summed over the warm parents and
every child they reaped (/proc/<pid>/stat utime+stime+cutime+cstime) plus this process (the server side:
talking to the child, not checking the result). Load-independent, unlike wall-clock figures.
Usage: .venv/bin/python bench/sandbox_cpu_bench.py [--runs 300 --workers 2 --clients 4 --gap-ms 0] [--env K=V ...]
"""
import argparse
import json
import os
import threading
import time

TWO_LINES = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\n"
TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> tuple[float, float]:
    """(user, sys) seconds of a process and the children it has reaped."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ut, st, cut, cst = (int(x) for x in fields[11:15])
    return (ut + cut) / TICK, (st + cst) / TICK


def anon_huge_mb(pid: int) -> float:
    """MiB of a warm parent's memory still in huge pages (its own writes split them over time)."""
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(runs: int, workers: int, clients: int, gap_ms: float, perf_out: str | None = None, code: str = TWO_LINES,
            **settings) -> dict:
    from gradtrace.config import Settings
    from gradtrace.sandbox.runner import SandboxRunner

    runner = SandboxRunner(Settings(workers=workers, queue_size=64, **settings))
    runner.start()
    seeds = iter(range(10**6, 10**9))
    lock = threading.Lock()
    try:
        for _ in range(10):  # warm: the spares, the code paths
            runner.run_payload(code, next(seeds))
        time.sleep(0.5)  # let the spares finish warming, so both phases start alike
        pids = [w.proc.pid for w in runner._workers]
        perf = None
        if perf_out:  # profile the warm parents and every child they fork (perf follows forks)
            import subprocess
            perf = subprocess.Popen(["perf", "record", "-q", *os.environ.get("PERF_EVENT", "-e cpu-clock -F 2000 -g").split(), "-o", perf_out,
                                     "-p", ",".join(map(str, pids))], stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        before = [tree_cpu_s(p) for p in pids]
        own = os.times()
        took = []

        def client(n):
            for _ in range(n):
                with lock:
                    s = next(seeds)
                t = time.perf_counter()
                payload = runner.run_payload(code, s)
                took.append(time.perf_counter() - t)
                assert isinstance(payload, bytes) and b'"status":"ok"' in payload, payload[:200]
                if gap_ms:
                    time.sleep(gap_ms / 1000)

        threads = [threading.Thread(target=client, args=(runs // clients,)) for _ in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        time.sleep(0.3)
        if perf is not None:
            import signal
            perf.send_signal(signal.SIGINT)
            perf.wait()  # the last children are reaped (their CPU lands in the parent's cutime)
        after = [tree_cpu_s(p) for p in pids]
        own_after = os.times()
        n = len(took)
        user = sum(a[0] - b[0] for a, b in zip(after, before))
        system = sum(a[1] - b[1] for a, b in zip(after, before))
        server = (own_after.user - own.user) + (own_after.system - own.system)
        took.sort()
        return {"runs": n, "clients": clients, "gap_ms": gap_ms, "sandbox_user_ms": round(user / n * 1000, 2),
                "sandbox_sys_ms": round(system / n * 1000, 2), "server_side_ms": round(server / n * 1000, 2),
                "cpu_per_run_ms": round((user + system + server) / n * 1000, 2), "p50_ms": round(took[n // 2] * 1000, 1),
                "runs_per_s": round(n / wall, 1), "load": round(os.getloadavg()[0], 1), **settings,
                "hugepages": runner.layers.get("hugepages"), "huge_mb_end": [anon_huge_mb(p) for p in pids]}
    finally:
        runner.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--gap-ms", type=float, default=0.0)
    ap.add_argument("--perf", help="also record a perf profile of the sandbox processes into this file")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for this run (repeatable); --vs NAME=VALUE runs again with that one changed")
    ap.add_argument("--vs", action="append", default=[], metavar="NAME=VALUE",
                    help="a second configuration, measured alternately with the first (--rounds pairs)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--code-file", help="trace this program instead of the two-line one")
    args = ap.parse_args()
    base = dict(kv.split("=", 1) for kv in args.set)
    configs = [base] + ([{**base, **dict(kv.split("=", 1) for kv in args.vs)}] if args.vs else [])
    for _ in range(args.rounds):
        for config in configs:
            code = open(args.code_file).read() if args.code_file else TWO_LINES
            print(json.dumps(measure(args.runs, args.workers, args.clients, args.gap_ms, args.perf, code, **config)), flush=True)


if __name__ == "__main__":
    main()
