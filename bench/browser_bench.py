"""Layout+draw time, main-thread long tasks and animation frame rate of the web page in headless Chromium.

    .venv/bin/python bench/browser_bench.py [--update-readme] [--before REV] [--quick]

Traces straight-line programs `x1 = tanh(W @ x0 + b)`, `x2 = …` (one line per op group, so no loop is
folded) sized to about 100, 1,000, 2,000 ops and 5,000 drawn nodes (in-process tracer), and hands each
trace, as the JSON text the API answers, to the page. Each size is measured on two servers in the same
run: "before" serves the page of git revision REV (default: the merge base with main), "after" this tree.
  load ms   – JSON.parse of the response → graph model → layout → SVG built → first frame (median of 3)
  layout ms – the layout part of that
  longest task ms – the longest main-thread task during the load (PerformanceObserver "longtask")
  step ms   – one timeline step (restyle + values) during backward, mean over 60 steps
  fps       – requestAnimationFrame rate while playing at 4× speed with the gradient animation, 4 s
  zoom ms   – a zoom sweep, one scale per frame (0.3× → 1.2× and back, 96 frames: semantic zoom's labels
              shorten and grow): mean and worst frame interval
"""
import argparse
import json
import re
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
HEAD = """import torch
x0 = torch.randn(4)
W = torch.randn(4, 4, requires_grad=True)
b = torch.randn(4, requires_grad=True)
"""
# label → repetitions of the 3-op line (mv, add, tanh): 2,000 ops is 667 lines; ~5,000 drawn nodes is 830.
SIZES = {"~100 nodes": 16, "~1,000 nodes": 166, "2,000 ops": 667, "~5,000 nodes": 830}
# Real models of ~50–170 drawn nodes (tests/browser/models): their first frame is the module overview.
MODELS = {"LSTM language model": "lstm_lm", "TransformerEncoder": "transformer_encoder", "2-layer GPT": "gpt"}


def program(k: int) -> str:
    body = "".join(f"x{i + 1} = torch.tanh(W @ x{i} + b)\n" for i in range(k))
    return HEAD + body + f"x{k}.sum().backward()\n"


def frontend_of(rev: str, into: Path) -> Path:
    """The frontend/ folder of git revision `rev`, unpacked under `into`."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "frontend"], check=True, capture_output=True).stdout
    tar = into / "frontend.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into / "frontend"


def serve(frontend_dir=None):
    import uvicorn

    from gradtrace.api.app import create_app
    from gradtrace.config import Settings
    from gradtrace.runner import InProcessRunner

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(frontend_dir=frontend_dir) if frontend_dir else Settings()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, runner=InProcessRunner()), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server


LOAD = """async ([text, code]) => {
  const g = window.gradtrace;
  const tasks = [];
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) tasks.push(e.duration); });
  obs.observe({ type: 'longtask' });
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  await g.load(JSON.parse(text), code);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 100)); // long-task entries arrive after their task
  obs.disconnect();
  return { ms, layout: Number(document.getElementById('graph').dataset.layoutMs), longest: Math.max(0, ...tasks),
           drawn: document.querySelectorAll('#graph [data-key]').length };
}"""

STEPS = """async () => {
  const g = window.gradtrace, p = g.player, tl = g.app.tl;
  const start = tl.passRange[0].start;
  p.seek(start);
  const t0 = performance.now();
  for (let k = start; k < start + 60 && k <= p.total; k++) p.seek(k, 'forward');
  const ms = (performance.now() - t0) / 60;
  await new Promise((r) => requestAnimationFrame(r));
  return ms;
}"""

ZOOM = """async () => {
  const v = window.gradtrace.view, t0 = v.transform, n = 48, frames = [], handler = [];
  const ks = [...Array(n).keys()].map((i) => 0.3 * Math.pow(4, i / (n - 1)));
  const seq = [...ks, ...[...ks].reverse()];
  let writes = 0;
  const obs = new MutationObserver((ms) => { for (const m of ms) if (m.target.parentElement?.classList?.contains('lodname') || m.target.classList?.contains?.('lodname')) writes++; });
  obs.observe(document.querySelector('#graph svg'), { subtree: true, childList: true, characterData: true });
  let last = 0;
  await new Promise((done) => {
    let i = 0;
    const tick = (now) => {
      if (last) frames.push(now - last);
      last = now;
      if (i === seq.length) return done();
      const a = performance.now();
      v.restore(t0.scale(seq[i++] / t0.k));
      handler.push(performance.now() - a);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  obs.disconnect();
  v.restore(t0);
  const mean = (xs) => xs.reduce((p, q) => p + q, 0) / xs.length;
  return { apply: mean(handler), frame: mean(frames), worst: Math.max(...frames), writes };
}"""

FPS = """async () => {
  const g = window.gradtrace, p = g.player;
  p.seek(Math.max(0, g.app.tl.passRange[0].start - 3));
  p.setSpeed(4);
  p.play();
  let frames = 0, worst = 0, last = performance.now();
  const t0 = last;
  await new Promise((done) => {
    const tick = (now) => { frames++; worst = Math.max(worst, now - last); last = now;
      if (now - t0 < 4000) requestAnimationFrame(tick); else done(); };
    requestAnimationFrame(tick);
  });
  p.pause();
  return { fps: frames / ((performance.now() - t0) / 1000), worst };
}"""


def measure(browser, url, text, code, quick=False):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector('#graph[data-loads="1"]', state="attached", timeout=30_000)
    loads = [page.evaluate(LOAD, [text, code]) for _ in range(1 if quick else 3)]
    step_ms = page.evaluate(STEPS)
    z = page.evaluate(ZOOM)
    zoom = {"zoom": z["frame"], "zoomWorst": z["worst"]}
    fps = {"fps": float("nan"), "worst": float("nan")} if quick else page.evaluate(FPS)
    ctx.close()
    return {"load": statistics.median(x["ms"] for x in loads), "layout": statistics.median(x["layout"] for x in loads),
            "longest": statistics.median(x["longest"] for x in loads), "drawn": loads[0]["drawn"], "step": step_ms, **zoom, **fps}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--update-readme", action="store_true", help="write the table into bench/README.md")
    ap.add_argument("--before", default=None, help="git revision whose page is measured as 'before' (default: merge base with main)")
    ap.add_argument("--quick", action="store_true", help="one load per size, no fps")
    ap.add_argument("--sizes", default=None, help="comma-separated subset of the size labels' numbers, e.g. 2000,5000")
    ap.add_argument("--models", default=None, help="comma-separated subset of the real models (lstm_lm,transformer_encoder,gpt); 'none' for none")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from gradtrace.tracer import trace as run_trace

    rev = args.before or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True,
                                        capture_output=True, text=True).stdout.strip()
    tmp = tempfile.TemporaryDirectory()
    sites = {"before": serve(frontend_of(rev, Path(tmp.name))), "after": serve()}
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        wanted = args.sizes.split(",") if args.sizes else None
        models = [m for m in (args.models or ",".join(MODELS.values())).split(",") if m in MODELS.values()]
        jobs = [(label, program(k)) for label, k in SIZES.items() if not wanted or any(w in label.replace(",", "") for w in wanted)]
        jobs += [(label, (ROOT / "tests" / "browser" / "models" / f"{m}.py").read_text()) for label, m in MODELS.items() if m in models]
        for label, code in jobs:
            tr = run_trace(code, seed=0)
            assert tr["status"] == "ok", tr["error"]
            text = json.dumps(tr)
            nodes = len(tr["tensors"]) + len(tr["nodes"])
            for which, (url, _) in sites.items():  # before and after back to back: same machine load
                m = measure(browser, url, text, code, args.quick)
                rows.append((label, which, len(tr["forward"]), nodes, m))
                print(f"{label} [{which}]: {len(tr['forward'])} ops, {nodes} nodes+tensors, {m['drawn']} drawn, load {m['load']:.0f} ms "
                      f"(layout {m['layout']:.0f}), longest task {m['longest']:.0f} ms, step {m['step']:.1f} ms, "
                      f"zoom frame {m['zoom']:.1f} ms (worst {m['zoomWorst']:.0f}), "
                      f"{m['fps']:.0f} fps (worst frame {m['worst']:.0f} ms)", flush=True)
        browser.close()
    for _, server in sites.values():
        server.should_exit = True
    table = ["| graph | page | ops | nodes + tensors | drawn | response→first frame ms | of which layout ms | longest main-thread task ms | one step ms | zoom frame ms (worst) | fps while playing | worst frame ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, which, ops, nodes, m in rows:
        page = f"before ({rev[:7]})" if which == "before" else "after"
        table.append(f"| {label} | {page} | {ops:,} | {nodes:,} | {m['drawn']:,} | {m['load']:.0f} | {m['layout']:.0f} | "
                     f"{m['longest']:.0f} | {m['step']:.1f} | {m['zoom']:.1f} ({m['zoomWorst']:.0f}) | {m['fps']:.0f} | {m['worst']:.0f} |")
    print("\n".join(table))
    if args.update_readme:
        update_readme("\n".join(table))


def update_readme(table: str) -> None:
    path = ROOT / "bench" / "README.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = "<!-- browser-bench:start -->", "<!-- browser-bench:end -->"
    block = f"{start}\n{table}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text += f"\n## Web page (headless Chromium)\n\n{block}\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
