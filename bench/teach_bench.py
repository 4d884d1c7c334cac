"""Before/after of issue 9's teaching layer (chain-rule card, waiting gradients, tooltips, fitted narration) in one run.

    .venv/bin/python bench/teach_bench.py [--before integration] [--steps 200 | 0 for the whole pass] [--slowest 10]

Two servers in this process, same backend, two front ends: `--before` (default: the main worktree's frontend/)
and this checkout's. The ~1,000-node loop of browser_bench.py is loaded in each (median of 3 loads), then every
backward step (up to --steps) is taken one at a time and timed: the script part (player.seek → render) plus the
frame it causes (style, layout, paint: from the next requestAnimationFrame to the task after it). Runs
interleave before/after so machine load hits both alike. Figures: bench/README.md.
"""
import argparse
import json
import tempfile
import statistics
import sys
import threading
import time
import socket
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_bench import CHROMIUM, LOAD, SIZES, frontend_of, program  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

STEP_EACH = """async (n) => {
  const g = window.gradtrace, p = g.player, tl = g.app.tl;
  const start = tl.passRange[0].start, end = n > 0 ? Math.min(tl.passRange[0].end, start + n - 1) : tl.passRange[0].end;
  p.seek(start - 1);
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const out = [];
  for (let k = start; k <= end; k++) {
    const t0 = performance.now();
    p.seek(k, 'step');
    const script = performance.now() - t0;
    const frame = await new Promise((r) => requestAnimationFrame(() => { const a = performance.now(); setTimeout(() => r(performance.now() - a), 0); }));
    const e = tl.entries[k - 1];
    const node = e && e.kind === 'backward' ? tl.graph.tnodes.get(tl.trace.backward[e.pass].steps[e.index].node) : null;
    out.push([script, frame, k, node ? `${node.id} ${node.name}` : '']);
  }
  return out;
}"""


def serve(frontend: Path):
    import uvicorn

    from gradtrace.api.app import create_app
    from gradtrace.config import Settings
    from gradtrace.runner import InProcessRunner

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(frontend_dir=frontend), runner=InProcessRunner())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server


def once(browser, url, trace, code, steps):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector('#graph[data-loads="1"]', state="attached", timeout=60_000)
    load = page.evaluate(LOAD, [json.dumps(trace), code])
    timings = page.evaluate(STEP_EACH, steps)
    ctx.close()
    return load, timings


def summary(loads, timings):
    totals = sorted(s + f for s, f, *_ in timings)
    pct = lambda q: totals[min(len(totals) - 1, int(q * len(totals)))]  # noqa: E731
    return {"load": statistics.median(x["ms"] for x in loads), "layout": statistics.median(x["layout"] for x in loads),
            "script": statistics.mean(t[0] for t in timings), "frame": statistics.mean(t[1] for t in timings),
            "p50": pct(0.5), "p95": pct(0.95), "max": totals[-1], "n": len(totals),
            "over": sum(t > 16 for t in totals), "over_median": _over_by_median(timings)}


def _over_by_median(timings, limit=16.0):
    """Steps whose median over the runs (script + frame) exceeds `limit` ms; timings carry (script, frame, k, …)."""
    by_k = {}
    for t in timings:
        if len(t) >= 3:
            by_k.setdefault(t[2], []).append(t[0] + t[1])
    return sum(statistics.median(v) > limit for v in by_k.values()) if by_k else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default=None, help="git revision (or frontend/ folder) whose page is compared; default: none")
    ap.add_argument("--steps", type=int, default=200, help="backward steps timed from the pass's start; 0 = the whole pass")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--slowest", type=int, default=0, help="also list the N slowest steps (k, node, script and frame ms) of each side")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from gradtrace.tracer import trace as run_trace

    code = program(SIZES["~1,000 nodes"])
    tr = run_trace(code, seed=0)
    assert tr["status"] == "ok", tr["error"]
    sides = {}
    if args.before:
        before = Path(args.before)
        if not before.is_dir():
            before = frontend_of(args.before, Path(tempfile.mkdtemp()))
        sides["before"] = serve(before)
    sides["after"] = serve(ROOT / "frontend")
    data = {k: ([], []) for k in sides}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for _ in range(args.runs):
            for side, (url, _) in sides.items():
                load, timings = once(browser, url, tr, code, args.steps)
                data[side][0].append(load)
                data[side][1].extend(timings)
        browser.close()
    print(f"~1,000-node graph ({len(tr['tensors']) + len(tr['nodes'])} tensors + nodes), {args.runs} runs, before = {args.before}")
    print("| front end | load+layout+draw ms | of which layout ms | step: script ms (mean) | step: frame ms (mean) | "
          "step total p50 | p95 | max | steps timed | timings > 16 ms | steps whose median > 16 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for side, (loads, timings) in data.items():
        s = summary(loads, timings)
        print(f"| {side} | {s['load']:.0f} | {s['layout']:.0f} | {s['script']:.1f} | {s['frame']:.1f} | {s['p50']:.1f} | "
              f"{s['p95']:.1f} | {s['max']:.1f} | {s['n']} | {s['over']} | {s['over_median']} |")
    for side, (_, timings) in data.items():
        if not args.slowest:
            break
        by_k = {}
        for s_, f, k, name in timings:
            by_k.setdefault((k, name), []).append((s_, f))
        med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
        rows = sorted(((k, name, med(xs, 0), med(xs, 1), max(a + b for a, b in xs)) for (k, name), xs in by_k.items()),
                      key=lambda r: -(r[2] + r[3]))
        fan = [r for r in rows if "AccumulateGrad" in r[1]]
        print(f"\n{side}: the {args.slowest} slowest steps (median over runs of script + frame), then the fan-in steps")
        print("| k | node | script ms (median) | frame ms (median) | total ms (median) | worst run ms |")
        print("|---:|---|---:|---:|---:|---:|")
        for k, name, s_, f, worst in rows[:args.slowest] + [r for r in fan if r not in rows[:args.slowest]]:
            print(f"| {k} | {name} | {s_:.1f} | {f:.1f} | {s_ + f:.1f} | {worst:.1f} |")
    for _, server in sides.values():
        server.should_exit = True


if __name__ == "__main__":
    sys.exit(main())
