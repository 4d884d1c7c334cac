"""Warm trace latency and throughput over HTTP, through the sandbox, for the gallery.

Starts `gradtrace serve` on a free loopback port (or uses --url), waits until /api/v1/health is ready, then:
  1. latency: each gallery example `--rounds` times, one request at a time with a short pause between
     requests (warm workers, no queueing): p50 / p95 / max, and the median per example;
  2. throughput: `--clients` keep-alive connections posting gallery examples back to back, `--requests`
     in all: traces per second, and p50 / p95 latency under that load.
Every response must be 200 with a valid status; anything else is counted and reported.
Usage: .venv/bin/python bench/http_bench.py [--rounds 10] [--clients 4] [--requests 600] [--json]
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, GRADTRACE_WORKERS=str(workers), GRADTRACE_QUEUE_SIZE="64")
    return subprocess.Popen([sys.executable, "-m", "gradtrace.cli", "serve", "--port", str(port),
                             "--log-level", "warning"], env=env)


def wait_ready(host: str, port: int, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", "/api/v1/health")
            resp = conn.getresponse()
            body = json.loads(resp.read())
            if resp.status == 200:
                return body
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise SystemExit("server did not become ready")


class Client:
    """One keep-alive connection."""

    def __init__(self, host: str, port: int):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)

    def get(self, path: str):
        self.conn.request("GET", path)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read())

    def trace(self, code: str) -> tuple[int, float, dict | None]:
        body = json.dumps({"code": code, "seed": 0})
        started = time.perf_counter()
        self.conn.request("POST", "/api/v1/traces", body=body, headers={"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - started
        return resp.status, elapsed, json.loads(data) if resp.status == 200 else None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency(host, port, gallery, rounds: int, pause: float) -> dict:
    client, times, per_example, bad = Client(host, port), [], {}, 0
    for ex in gallery:  # warm-up: every path once
        client.trace(ex["code"])
    for _ in range(rounds):
        for ex in gallery:
            status, elapsed, body = client.trace(ex["code"])
            bad += status != 200 or body["status"] not in ("ok", "error")
            times.append(elapsed * 1000)
            per_example.setdefault(ex["id"], []).append(elapsed * 1000)
            time.sleep(pause)
    return {"requests": len(times), "bad": bad, "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95),
            "max_ms": max(times), "per_example_p50_ms": {k: statistics.median(v) for k, v in per_example.items()}}


def tree_cpu_s(pid: int | None) -> float:
    """CPU seconds of a process, its children, and their reaped children (the sandbox's forked runs)."""
    if pid is None:
        return 0.0
    total, tck = 0.0, os.sysconf("SC_CLK_TCK")
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15]) / tck  # utime stime cutime cstime
        for task in os.listdir(f"/proc/{pid}/task"):
            for child in open(f"/proc/{pid}/task/{task}/children").read().split():
                total += tree_cpu_s(int(child))
    except OSError:
        pass
    return total


def throughput(host, port, gallery, clients: int, requests: int, server_pid: int | None = None) -> dict:
    times, statuses, lock, counter = [], {}, threading.Lock(), iter(range(requests))

    def worker():
        client = Client(host, port)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            status, elapsed, _ = client.trace(gallery[i % len(gallery)]["code"])
            with lock:
                times.append(elapsed * 1000)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    cpu0, own0 = tree_cpu_s(server_pid), sum(os.times()[:2])
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    server_ms = (tree_cpu_s(server_pid) - cpu0) / requests * 1000
    client_ms = (sum(os.times()[:2]) - own0) / requests * 1000
    return {"clients": clients, "requests": requests, "seconds": wall, "traces_per_s": requests / wall,
            "statuses": statuses, "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95),
            "server_cpu_ms_per_trace": server_ms if server_pid else None, "client_cpu_ms_per_trace": client_ms,
            "load_average": os.getloadavg()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="use a running server (e.g. http://127.0.0.1:8000) instead of starting one")
    parser.add_argument("--workers", type=int, default=2, help="sandbox workers of the started server (default 2)")
    parser.add_argument("--rounds", type=int, default=10, help="latency rounds over the gallery (default 10)")
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between latency requests (default 0.02)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients for throughput (default 4)")
    parser.add_argument("--requests", type=int, default=600, help="requests in the throughput run (default 600)")
    parser.add_argument("--server-pid", type=int, default=None,
                        help="with --url: the server's pid, to count its process tree's CPU per trace")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    server = None
    if args.url:
        parsed = urllib.parse.urlparse(args.url)
        host, port = parsed.hostname, parsed.port or 80
    else:
        host, port = "127.0.0.1", free_port()
        server = start_server(port, args.workers)
    try:
        health = wait_ready(host, port)
        _, gallery = Client(host, port).get("/api/v1/examples")
        lat = latency(host, port, gallery, args.rounds, args.pause)
        thr = throughput(host, port, gallery, args.clients, args.requests, server.pid if server else args.server_pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    result = {"cpus": os.cpu_count(), "examples": len(gallery), "runner": health.get("runner", {}),
              "latency": lat, "throughput": thr}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"gallery: {len(gallery)} examples; {os.cpu_count()} CPUs; layers: "
              f"{sorted(k for k, v in result['runner'].get('layers', {}).items() if v)}")
        print(f"latency (1 client, {lat['requests']} requests): p50 {lat['p50_ms']:.1f} ms, "
              f"p95 {lat['p95_ms']:.1f} ms, max {lat['max_ms']:.1f} ms, bad {lat['bad']}")
        print(f"throughput ({thr['clients']} clients, {thr['requests']} requests): {thr['traces_per_s']:.1f} traces/s, "
              f"p50 {thr['p50_ms']:.1f} ms, p95 {thr['p95_ms']:.1f} ms, statuses {thr['statuses']}")
        if thr["server_cpu_ms_per_trace"]:
            per = thr["server_cpu_ms_per_trace"] + thr["client_cpu_ms_per_trace"]
            print(f"CPU per trace: server + sandbox {thr['server_cpu_ms_per_trace']:.1f} ms, client "
                  f"{thr['client_cpu_ms_per_trace']:.1f} ms -> at most {os.cpu_count() / per * 1000:.0f} traces/s "
                  f"on {os.cpu_count()} idle cores (load average during the run: {thr['load_average'][0]:.1f})")
        for ex_id, ms in lat["per_example_p50_ms"].items():
            print(f"  {ex_id:24s} {ms:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
