"""Semantic zoom's cost: a zoom sweep on the page of git revision REV ("before") and of this tree ("after"), rounds
interleaved so both see the same machine load.

    .venv/bin/python bench/zoom_bench.py [--before REV] [--rounds 3]

Each sweep sets one scale per frame (0.3× → 1.2× and back, 96 frames) on a program's fitted graph at 1400×900:
  apply ms – the zoom handler's own time per frame (semantic zoom's labels, culling), mean
  frame ms – frame interval (handler + style, layout and paint of the rescaled text), mean and worst
  writes  – labels whose text changed over the sweep (elided lengths stepping; 0 before: labels were shown or hidden)
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from browser_bench import CHROMIUM, ROOT, ZOOM, frontend_of, program, serve  # noqa: E402

PROGRAMS = {"~100 nodes": None, "VAE": "vae", "2-layer GPT": "gpt", "TransformerEncoder": "transformer_encoder"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default=None, help="git revision measured as 'before' (default: merge base with main)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from gradtrace.tracer import trace as run_trace

    rev = args.before or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], check=True,
                                        capture_output=True, text=True).stdout.strip()
    tmp = tempfile.TemporaryDirectory()
    sites = {"before": serve(frontend_of(rev, Path(tmp.name))), "after": serve()}
    res = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for label, model in PROGRAMS.items():
            code = program(16) if model is None else (ROOT / "tests" / "browser" / "models" / f"{model}.py").read_text()
            text = json.dumps(run_trace(code, seed=0))
            pages = {}
            for which, (url, _) in sites.items():
                pg = browser.new_page(viewport={"width": 1400, "height": 900})
                pg.goto(url)
                pg.wait_for_selector('#graph[data-loads="1"]', state="attached", timeout=30_000)
                pg.evaluate("async ([t, c]) => { await window.gradtrace.load(JSON.parse(t), c); }", [text, code])
                pages[which] = pg
            for _ in range(args.rounds):
                for which, pg in pages.items():
                    res.setdefault((label, which), []).append(pg.evaluate(ZOOM))
            for pg in pages.values():
                pg.close()
        browser.close()
    for _, server in sites.values():
        server.should_exit = True
    print("| graph | page | zoom handler ms / frame | frame ms (median of rounds) | worst frame ms | label rewrites per sweep |")
    print("|---|---|---:|---:|---:|---:|")
    for (label, which), rs in res.items():
        def med(f, rs=rs):
            return statistics.median(r[f] for r in rs)

        page = f"before ({rev[:7]})" if which == "before" else "after"
        print(f"| {label} | {page} | {med('apply'):.2f} | {med('frame'):.1f} | {med('worst'):.0f} | {med('writes'):.0f} |")


if __name__ == "__main__":
    sys.exit(main())
