"""Showing and opening the optimizer bookkeeping on the 2-layer GPT: the page of git revision REV ("before") and of
this tree ("after"), rounds interleaved so both see the same machine load.

    .venv/bin/python bench/book_bench.py [--before REV] [--rounds 2] [--shot PATH]

  optim ms – "Show optimizer bookkeeping" pressed until the new layout is drawn
  open ms  – the closed "Optimizer state, clipping" block opened (Enter) until its open box is drawn
  longest task ms – the longest main-thread task while opening (the page is frozen that long)
  layout ms – the page's own layout time for the open (#graph's data-layout-ms)
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from browser_bench import CHROMIUM, ROOT, frontend_of, serve  # noqa: E402

WATCH = """() => { window.__tasks = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__tasks.push(e.duration); })
  .observe({ type: 'longtask', buffered: false }); }"""
OPTIM = """async () => { const a = performance.now(); document.getElementById('bookkeeping').click();
  await new Promise((ok) => { const t = () => (window.gradtrace.app.bookkeeping && window.gradtrace.app.layout ? ok() : setTimeout(t, 5)); t(); });
  return performance.now() - a; }"""
OPEN = """async () => { window.__tasks = []; const a = performance.now();
  const el = document.querySelector('#graph .group.collapsed[data-group="g:book"]'); el.focus();
  el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await new Promise((ok) => { const t = () => (document.querySelector('#graph .group[data-group="g:book"]:not(.collapsed)') ? ok() : setTimeout(t, 5)); t(); });
  const ms = performance.now() - a; await new Promise((ok) => setTimeout(ok, 100));
  return { ms, longest: Math.max(0, ...window.__tasks), layout: +document.getElementById('graph').dataset.layoutMs }; }"""
OFF = """async () => { document.getElementById('bookkeeping').click();
  await new Promise((ok) => { const t = () => (!window.gradtrace.app.bookkeeping && window.gradtrace.app.layout ? ok() : setTimeout(t, 5)); t(); }); }"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default=None, help="git revision measured as 'before' (default: merge base with main)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--shot", default=None, help="save a screenshot of the opened block (after) here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from gradtrace.tracer import trace as run_trace

    rev = args.before or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True,
                                        capture_output=True, text=True).stdout.strip()
    tmp = tempfile.TemporaryDirectory()
    sites = {"before": serve(frontend_of(rev, Path(tmp.name))), "after": serve()}
    code = (ROOT / "tests" / "browser" / "models" / "gpt.py").read_text()
    text = json.dumps(run_trace(code, seed=0))
    res = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        pages = {}
        for which, (url, _) in sites.items():
            pg = browser.new_page(viewport={"width": 1400, "height": 900})
            pg.goto(url)
            pg.wait_for_selector('#graph[data-loads="1"]', state="attached", timeout=30_000)
            pg.evaluate("async ([t, c]) => { await window.gradtrace.load(JSON.parse(t), c); }", [text, code])
            pg.evaluate(WATCH)
            pages[which] = pg
        for r in range(args.rounds):
            for which, pg in pages.items():
                optim = pg.evaluate(OPTIM)
                opened = pg.evaluate(OPEN)
                if args.shot and which == "after" and r == args.rounds - 1:
                    pg.wait_for_timeout(800)  # the camera's move to the opened block
                    pg.screenshot(path=args.shot)
                pg.evaluate(OFF)
                res.setdefault(which, []).append({"optim": optim, **opened})
        browser.close()
    for _, server in sites.values():
        server.should_exit = True
    print("| page | optim ms | open ms | longest task ms | layout ms |")
    print("|---|---:|---:|---:|---:|")
    for which, rs in res.items():
        def med(f, rs=rs):
            return statistics.median(r[f] for r in rs)

        page = f"before ({rev[:7]})" if which == "before" else "after"
        print(f"| {page} | {med('optim'):.0f} | {med('ms'):.0f} | {med('longest'):.0f} | {med('layout'):.0f} |")


if __name__ == "__main__":
    sys.exit(main())
