"""Layout+draw time and animation frame rate of the web page in headless Chromium.

    .venv/bin/python bench/browser_bench.py [--update-readme]

Traces a loop program `x = tanh(W @ x + b)` sized to about 100, 1,000 and 5,000 drawn nodes
(in-process tracer), hands each trace to the page (window.gradtrace.load), and measures:
  load ms   – trace → graph model → dagre layout → SVG built → first frame painted (median of 3)
  layout ms – the dagre part of that (chunked layout, stubs)
  step ms   – one timeline step (restyle + values) during backward, mean over 60 steps
  fps       – requestAnimationFrame rate while playing at 4× speed with the gradient animation, 4 s
"""
import argparse
import json
import re
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PROGRAM = """import torch
x = torch.randn(4)
W = torch.randn(4, 4, requires_grad=True)
b = torch.randn(4, requires_grad=True)
for i in range({k}):
    x = torch.tanh(W @ x + b)
x.sum().backward()
"""
SIZES = {100: 16, 1000: 166, 5000: 830}


def serve():
    import uvicorn

    from gradtrace.api.app import create_app
    from gradtrace.runner import InProcessRunner

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runner=InProcessRunner()), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server


LOAD = """async ([trace, code]) => {
  const g = window.gradtrace;
  const t0 = performance.now();
  await g.load(trace, code);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return { ms: performance.now() - t0, layout: Number(document.getElementById('graph').dataset.layoutMs),
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


def measure(browser, url, trace, code):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector('#graph[data-loads="1"]', state="attached", timeout=30_000)
    loads = [page.evaluate(LOAD, [trace, code]) for _ in range(3)]
    step_ms = page.evaluate(STEPS)
    fps = page.evaluate(FPS)
    ctx.close()
    return {"load": statistics.median(x["ms"] for x in loads), "layout": statistics.median(x["layout"] for x in loads),
            "drawn": loads[0]["drawn"], "step": step_ms, **fps}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--update-readme", action="store_true", help="write the table into bench/README.md")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from gradtrace.tracer import trace as run_trace

    url, server = serve()
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for target, k in SIZES.items():
            code = PROGRAM.format(k=k)
            tr = run_trace(code, seed=0)
            assert tr["status"] == "ok", tr["error"]
            m = measure(browser, url, tr, code)
            nodes = len(tr["tensors"]) + len(tr["nodes"])
            rows.append((target, nodes, m))
            print(f"~{target}: {nodes} trace nodes+tensors, {m['drawn']} drawn, load {m['load']:.0f} ms "
                  f"(layout {m['layout']:.0f}), step {m['step']:.1f} ms, {m['fps']:.0f} fps (worst frame {m['worst']:.0f} ms)",
                  flush=True)
        browser.close()
    server.should_exit = True
    table = ["| graph | nodes + tensors | drawn elements | load+layout+draw ms | of which layout ms | one step ms | fps while playing | worst frame ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for target, nodes, m in rows:
        table.append(f"| ~{target:,} nodes | {nodes:,} | {m['drawn']:,} | {m['load']:.0f} | {m['layout']:.0f} | "
                     f"{m['step']:.1f} | {m['fps']:.0f} | {m['worst']:.0f} |")
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
