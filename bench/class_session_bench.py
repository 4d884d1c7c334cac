"""Live class sessions on real processes (issue 18): step delivery to many followers, answers from one address,
and a hall behind one address running its own programs. Not a test: figures go to bench/README.md.

Scenarios (each on fresh servers, loopback only; followers are asyncio EventSource clients in this process):
  D. 300 followers on one replica (`gradtrace serve`, in-memory broker): the presenter PUTs 20 steps, 0.3 s
     apart; per step and follower, delivery = arrival of the `state` event - the moment the PUT was sent.
  E. 1,000 followers over two replicas behind nginx (shipped config) on Redis: the same 20 steps, PUT on
     replica A; followers spread by nginx.
  F. 300 followers behind one address answer one question at once (each once, honouring Retry-After): all
     counted? time until the tally says 300, `tally` events seen by the presenter's stream.
  G. 300 students behind one address (each with its seat cookie from GET /) each run their own program at once,
     honouring Retry-After plus up to 2 s jitter (the page's rule), while one abuser on one seat fires 8 requests
     in a loop without waiting: statuses, time until each student's trace, the abuser's share.
Usage: .venv/bin/python bench/class_session_bench.py [--only D,E,F,G] [--json]
"""
import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from gradtrace.classes.follow import Follower  # noqa: E402
from tests.services.procs import Nginx, Redis, Replica, scratch  # noqa: E402

PROGRAM = {"code": "import torch\nw = torch.tensor([0.5, -1.0], requires_grad=True)\n(w.tanh() * w).sum().backward()\n",
           "seed": 0}
STEPS = 20


def call(base: str, method: str, path: str, body=None, headers=None, timeout=120):
    """(status, headers, parsed body or None) on a fresh connection."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None,
                     {"Content-Type": "application/json", **(headers or {})})
        r = conn.getresponse()
        data = r.read()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed
    finally:
        conn.close()


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def summary(latencies):
    return {"n": len(latencies), "p50_ms": round(1000 * pct(latencies, 50), 1),
            "p95_ms": round(1000 * pct(latencies, 95), 1), "max_ms": round(1000 * max(latencies), 1)}


def start_class(base):
    status, _, made = call(base, "POST", "/api/v1/classes", {"program": PROGRAM, "state": {"step": 0, "view": {}}})
    assert status == 201, (status, made)
    return made["code"], {"Authorization": f"Bearer {made['presenter_token']}"}


async def follow_many(bases: list[str], code: str, n: int, on_state):
    followers = []
    for i in range(n):
        host, port = bases[i % len(bases)].removeprefix("http://").split(":")
        f = Follower(host, int(port), f"/api/v1/classes/{code}/events",
                     lambda kind, eid, data, i=i: on_state(i, kind, data))
        f.task = asyncio.create_task(f.run())
        followers.append(f)
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # a hall joins over a few seconds, not in one microsecond
    return followers


async def stop_all(followers):
    for f in followers:
        f.stop()
    await asyncio.gather(*(f.task for f in followers), return_exceptions=True)


def cpu_s(pids) -> float:
    """User + system CPU seconds of these processes so far (/proc)."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _follow_part(bases, code, n, offset, conn) -> None:
    """One client process's followers: report when all have the first state, record arrivals until told to stop."""
    arrived: dict[int, dict[int, float]] = {}

    def on_state(i, kind, data):
        if kind == "state":
            step = json.loads(data)["state"]["step"]
            arrived.setdefault(step, {}).setdefault(offset + i, time.perf_counter())

    followers = await follow_many(bases, code, n, on_state)
    deadline = time.monotonic() + 120
    while len(arrived.get(0, {})) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    conn.send(len(arrived.get(0, {})))
    await asyncio.to_thread(conn.recv)
    servers: dict[str, int] = {}
    for f in followers:
        servers[f.server] = servers.get(f.server, 0) + 1
    await stop_all(followers)
    conn.send((arrived, servers, time.process_time()))


def follow_part(bases, code, n, offset, conn) -> None:
    asyncio.run(_follow_part(bases, code, n, offset, conn))


def step_delivery(presenter_base: str, follower_bases: list[str], n: int, pids=(), procs: int = 4) -> dict:
    """Followers in `procs` client processes (one Python loop cannot parse 1,000 streams without being the
    bottleneck); CLOCK_MONOTONIC (perf_counter) is one clock for all of them."""
    import multiprocessing as mp

    code, auth = start_class(presenter_base)
    ctx = mp.get_context("spawn")
    parts = []
    for k in range(procs):
        mine, theirs = ctx.Pipe()
        share = n // procs + (1 if k < n % procs else 0)
        proc = ctx.Process(target=follow_part, args=(follower_bases, code, share, k * (n // procs + 1), theirs))
        proc.start()
        parts.append((proc, mine))
    joined = sum(conn.recv() for _, conn in parts)
    sent: dict[int, float] = {}
    cpu0 = cpu_s(pids)
    for step in range(1, STEPS + 1):
        sent[step] = time.perf_counter()
        status, _, _ = call(presenter_base, "PUT", f"/api/v1/classes/{code}/state",
                            {"state": {"step": step, "view": {"iteration": step}}}, auth)
        assert status == 200, status
        time.sleep(0.3)
    time.sleep(3)
    cpu = cpu_s(pids) - cpu0  # includes the servers' heartbeats over these ~9 s (negligible)
    arrived: dict[int, list[float]] = {}
    servers: dict[str, int] = {}
    client_cpu = 0.0
    for proc, conn in parts:
        conn.send("stop")
        got, where, used = conn.recv()
        client_cpu += used
        for step, times in got.items():
            arrived.setdefault(step, []).extend(times.values())
        for server, count in where.items():
            servers[server] = servers.get(server, 0) + count
        proc.join(30)
    latencies = [t - sent[step] for step in range(1, STEPS + 1) for t in arrived.get(step, [])]
    per_step = [round(1000 * pct([t - sent[s] for t in arrived.get(s, [])], 95)) for s in range(1, STEPS + 1)]
    return {"followers": n, "joined": joined, "per_server": sorted(servers.values()), "steps": STEPS,
            "missing": STEPS * n - len(latencies), **summary(latencies), "p95_ms_per_step": per_step,
            "server_cpu_ms_per_step": round(1000 * cpu / STEPS, 1), "client_cpu_s": round(client_cpu, 1)}


async def answers_from_one_address(base: str, n: int) -> dict:
    code, auth = start_class(base)
    tallies = []
    presenter = (await follow_many([base], code, 1, lambda i, kind, data: tallies.append(json.loads(data))
                                   if kind == "tally" else None))[0]
    followers = await follow_many([base], code, n, lambda *a: None)
    await asyncio.sleep(2)
    status, _, q = call(base, "POST", f"/api/v1/classes/{code}/questions",
                        {"step": 1, "prompt": "grad?", "choices": ["a", "b", "c", "d"], "correct": 2}, auth)
    assert status == 201
    statuses: dict[int, int] = {}

    def answer(i):
        for _ in range(20):
            s, h, _ = call(base, "POST", f"/api/v1/classes/{code}/questions/{q['id']}/answers",
                           {"choice": i % 4, "follower": f"bench-follower-{i:05d}"})
            if s != 429 and s < 500:
                break
            time.sleep(float(h.get("retry-after", 1)) + random.random())
        statuses[s] = statuses.get(s, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(asyncio.to_thread(answer, i) for i in range(n)))
    answered = time.perf_counter() - t0
    total = 0
    while total < n and time.perf_counter() - t0 < 60:
        total = call(base, "GET", f"/api/v1/classes/{code}/questions/{q['id']}/tally", headers=auth)[2]["total"]
        await asyncio.sleep(0.05)
    counted = time.perf_counter() - t0
    await asyncio.sleep(1)
    final = call(base, "GET", f"/api/v1/classes/{code}/questions/{q['id']}/tally", headers=auth)[2]
    expect = [sum(1 for i in range(n) if i % 4 == c) for c in range(4)]
    await stop_all([presenter, *followers])
    return {"followers": n, "statuses": statuses, "total": final["total"], "counts": final["counts"],
            "counts_right": final["counts"] == expect, "all_answered_s": round(answered, 2),
            "tally_says_all_s": round(counted, 2), "tally_events": len(tallies),
            "last_tally_total": tallies[-1]["total"] if tallies else None}


def hall_runs(base: str, n: int) -> dict:
    """Students with seats run distinct programs at once, honouring Retry-After; an abuser does not."""
    import threading

    def seat_cookie():
        _, headers, _ = call(base, "GET", "/")
        return headers["set-cookie"].split(";")[0]

    cookies = [seat_cookie() for _ in range(n + 1)]
    done, stop = {}, threading.Event()
    abuser = {"200": 0, "429": 0, "503": 0, "other": 0}

    def student(i):
        t0, waits = time.perf_counter(), 0
        code = f"import torch\nx = torch.tensor([{i}.0, 1.0], requires_grad=True)\n(x.sin() * x).sum().backward()\n"
        while time.perf_counter() - t0 < 120:
            s, h, _ = call(base, "POST", "/api/v1/traces", {"code": code}, {"Cookie": cookies[i]})
            if s in (429, 503):
                waits += 1
                time.sleep(float(h.get("retry-after", 1)) + 2 * random.random())
                continue
            done[i] = (s, time.perf_counter() - t0, waits)
            return
        done[i] = ("gave up", time.perf_counter() - t0, waits)

    def abuse(k):
        j = 0
        while not stop.is_set():
            j += 1
            code = f"import torch\nx = torch.ones(2, requires_grad=True)\n(x * {k * 10**6 + j}).sum().backward()\n"
            s = call(base, "POST", "/api/v1/traces", {"code": code}, {"Cookie": cookies[n]})[0]
            abuser[str(s) if str(s) in abuser else "other"] += 1  # every program new: a 200 is a sandbox run

    abusers = [threading.Thread(target=abuse, args=(k,)) for k in range(8)]
    for t in abusers:
        t.start()
    threads = [threading.Thread(target=student, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in abusers:
        t.join()
    times = [v[1] for v in done.values() if v[0] == 200]
    statuses = {}
    for v in done.values():
        statuses[str(v[0])] = statuses.get(str(v[0]), 0) + 1
    runs = len(times) + abuser["200"]
    return {"students": n, "statuses": statuses, "abuser_share_of_runs": round(abuser["200"] / runs, 3) if runs else None, "p50_s": round(pct(times, 50), 2), "p95_s": round(pct(times, 95), 2),
            "max_s": round(max(times), 2) if times else None, "within_60_s": sum(t <= 60 for t in times),
            "retries": sum(v[2] for v in done.values()), "abuser": abuser}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="D,E,F,G")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    only = set(args.only.upper().split(","))
    work = scratch("gt-class-bench-")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("GRADTRACE_")}
    base_env.update(GRADTRACE_SNIPPET_DB=str(work / "s.sqlite3"), GRADTRACE_FRONTEND_DIR=str(ROOT / "frontend"))
    results = {}
    try:
        if only & {"D", "F"}:
            solo = Replica({**base_env, "GRADTRACE_WORKERS": "1"}, work)
            try:
                if "D" in only:
                    results["D"] = step_delivery(solo.base, [solo.base], 300, [solo.proc.pid])
                    print("D", results["D"], flush=True)
                if "F" in only:
                    results["F"] = asyncio.run(answers_from_one_address(solo.base, 300))
                    print("F", results["F"], flush=True)
            finally:
                solo.close()
        if "E" in only:
            redis = Redis()
            env = {**base_env, "GRADTRACE_REDIS_URL": redis.url, "GRADTRACE_TRUSTED_PROXIES": "127.0.0.1",
                   "GRADTRACE_WORKERS": "1"}
            replicas, nginx = [], None
            try:
                replicas = [Replica(env, work) for _ in range(2)]
                nginx = Nginx(replicas)
                results["E"] = step_delivery(replicas[0].base, [nginx.base], 1000,
                                             [r.proc.pid for r in replicas] + [nginx.proc.pid])
                print("E", results["E"], flush=True)
            finally:
                if nginx:
                    nginx.close()
                for r in replicas:
                    r.close()
                redis.close()
        if "G" in only:
            solo = Replica(base_env, work)  # default settings: 2 workers, queue 16
            try:
                results["G"] = hall_runs(solo.base, 300)
                print("G", results["G"], flush=True)
            finally:
                solo.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_average"] = os.getloadavg()
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
