"""The API server before and after issue 19, in one run: start-up, memory, torch, and warm uncached latency.

For each build (--before: a Python whose `gradtrace` is the old code, e.g. a venv over `git archive <ref> backend`;
the current one always), starts `gradtrace serve` with 2 workers and measures:
  1. start-up: seconds from spawn to the first 200 of /api/v1/health (the warm parents start in parallel), and
     the server's own import + create_app in a fresh interpreter;
  2. the server process's RSS after serving, and whether libtorch is mapped into it (/proc/<pid>/maps);
  3. warm uncached latency of a two-line program (a fresh seed per request, so nothing is a cache hit), one
     request at a time: p50 / p95; then `--clients` clients back to back: traces/s and p50;
  4. CPU per trace of the server's whole process tree (load-independent, unlike the wall-clock figures), one at a
     time and under load, the latter split server process / sandbox (warm parents and runs) / other (check pool).
Usage: .venv/bin/python bench/server_bench.py --before /tmp/s4h-before/venv/bin/python [--requests 200] [--json]
       or --before-path DIR: this Python with PYTHONPATH=DIR (e.g. `git archive <ref> backend | tar -x -C /tmp/old`,
       DIR=/tmp/old/backend; the warm parents run isolated (-I), so they run this tree's sandbox either way).
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

TWO_LINES = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\n"
IMPORT = ("import time, sys; t = time.perf_counter(); from gradtrace.api.app import create_app; create_app(); "
          "import resource; print(time.perf_counter() - t, 'torch' in sys.modules, "
          "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_cpu_s(root: int) -> dict:
    """CPU seconds of a process tree, each process with the children it reaped: 'server' (the root's own),
    'sandbox' (warm parents and every run's child), 'other' (the check pool...), 'total'."""
    tick, procs = os.sysconf("SC_CLK_TCK"), {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            own, reaped = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
            procs[int(entry)] = (int(fields[1]), own, reaped, b"gradtrace.sandbox.zygote" in cmdline)
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, info in procs.items() if info[0] in tree} - tree
        tree |= more
        grew = bool(more)
    out = {"server": 0.0, "sandbox": 0.0, "other": 0.0}
    for pid in tree & set(procs):
        _, own, reaped, zygote = procs[pid]
        part = "sandbox" if zygote else "server" if pid == root else "other"
        out[part] += (own + (reaped if pid != root else 0)) / tick
    out["total"] = sum(out.values())
    return out


def post(conn: http.client.HTTPConnection, seed: int, fmt: dict) -> float:
    body = json.dumps({"code": TWO_LINES, "seed": seed, **fmt})
    started = time.perf_counter()
    conn.request("POST", "/api/v1/traces", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    took = time.perf_counter() - started
    assert r.status == 200 and b'"status":"ok"' in data, (r.status, data[:200])
    return took


def measure(python: str, label: str, requests: int, clients: int, fmt: dict, pythonpath: str | None = None) -> dict:
    out = {"build": label}
    path_env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else dict(os.environ)
    imp = subprocess.run([python, "-c", IMPORT], capture_output=True, text=True, check=True, env=path_env).stdout.split()
    out["import_create_app_s"], out["import_loads_torch"], out["import_maxrss_mb"] = float(imp[0]), imp[1] == "True", float(imp[2])
    port = free_port()
    env = dict(path_env, GRADTRACE_WORKERS="2", GRADTRACE_QUEUE_SIZE="64", GRADTRACE_SNIPPET_DB=f"/tmp/gt-sb-{port}.db")
    started = time.monotonic()
    proc = subprocess.Popen([python, "-m", "gradtrace.cli", "serve", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - started > 180:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        out["startup_s"] = round(time.monotonic() - started, 2)
        seed = iter(range(10**6, 10**9))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(20):  # warm: workers, the check pool's processes
            post(conn, next(seed), fmt)
        one = []
        cpu_one = tree_cpu_s(proc.pid)
        for _ in range(requests // 2):
            one.append(post(conn, next(seed), fmt))
            time.sleep(0.01)
        out["one_cpu_ms_per_trace"] = round((tree_cpu_s(proc.pid)["total"] - cpu_one["total"]) / len(one) * 1000, 1)
        one.sort()
        out["p50_ms"], out["p95_ms"] = round(one[len(one) // 2] * 1000, 1), round(one[int(len(one) * 0.95)] * 1000, 1)
        cpu0 = tree_cpu_s(proc.pid)
        took, wall = clients_back_to_back(port, lambda c, s: post(c, s, fmt), seed, requests, clients)
        time.sleep(0.3)  # the last runs' children are reaped
        cpu1 = tree_cpu_s(proc.pid)
        out["load_cpu_ms_per_trace"] = round((cpu1["total"] - cpu0["total"]) / len(took) * 1000, 1)
        out["load_cpu_ms_split"] = "/".join(f"{(cpu1[k] - cpu0[k]) / len(took) * 1000:.1f}" for k in ("server", "sandbox", "other"))
        took.sort()
        out["load_traces_per_s"] = round(len(took) / wall, 1)
        out["load_p50_ms"] = round(took[len(took) // 2] * 1000, 1)
        out["load_avg"] = round(os.getloadavg()[0], 1)
        out["server_rss_mb"] = round(rss_mb(proc.pid), 1)
        out["server_maps_libtorch"] = "libtorch" in open(f"/proc/{proc.pid}/maps").read()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if os.path.exists(f"/tmp/gt-sb-{port}.db"):
            os.unlink(f"/tmp/gt-sb-{port}.db")
    return out


def clients_back_to_back(port: int, post_one, seeds, requests: int, clients: int) -> tuple[list[float], float]:
    """`clients` keep-alive clients, each posting `requests // clients` fresh seeds back to back with
    `post_one(conn, seed)`: (seconds each request took, wall seconds)."""
    lock, took = threading.Lock(), []

    def client(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(n):
            with lock:
                s = next(seeds)
            t = post_one(c, s)
            with lock:
                took.append(t)

    threads = [threading.Thread(target=client, args=(requests // clients,)) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return took, time.perf_counter() - t0


def print_rows(rows: list[dict]) -> None:
    """The rows as a Markdown table (the keys of the first row as columns)."""
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="a Python whose gradtrace is the old code")
    ap.add_argument("--before-path", help="run the before build with this Python and PYTHONPATH=DIR (the old code)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--format", default="compact2", choices=["compact2", "full"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    fmt = {"format": "compact", "compact_version": 2} if args.format == "compact2" else {"format": "full"}
    builds = ([(args.before, "before", None)] if args.before else []) + (
        [(sys.executable, "before", args.before_path)] if args.before_path else []) + [(sys.executable, "after", None)]
    rows = [measure(py, label, args.requests, args.clients, fmt, path) for py, label, path in builds]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print_rows(rows)


if __name__ == "__main__":
    main()
