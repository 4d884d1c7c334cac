"""A live class in real pages: how long from the lecturer's click until each follower's page shows the step.

    .venv/bin/python bench/class_page_bench.py [--followers 8] [--steps 30] [--gap-ms 400]

One headless Chromium, the app in-process (uvicorn, in-memory class broker). A lecturer page starts a class on
`mlp-training-step`; N follower pages (phones, 390×844, separate contexts) open /c/<code>. The lecturer presses
"Step forward" `--steps` times, `--gap-ms` apart. Each follower page records Date.now() when its #graph's
data-step becomes k (a MutationObserver); delivery = that minus the lecturer's Date.now() just before its click.
This is the whole path a student sees: click → render → PUT (coalesced) → broker → SSE → the follower's seek and
draw. The server-side fan-out to 300/1,000 followers is bench/class_session_bench.py's.
"""
import argparse
import re
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))
CHROMIUM = "/usr/bin/chromium"

WATCH = """() => {
  window.__seen = {};
  const g = document.getElementById('graph');
  new MutationObserver(() => { const k = g.dataset.step; if (!(k in window.__seen)) window.__seen[k] = Date.now(); })
    .observe(g, { attributes: true, attributeFilter: ['data-step'] });
}"""


def serve():
    import uvicorn

    from gradtrace.api.app import create_app
    from gradtrace.config import Settings
    from gradtrace.runner import InProcessRunner

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(), runner=InProcessRunner()), host="127.0.0.1",
                                           port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--followers", type=int, default=8)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--gap-ms", type=int, default=400)
    args = ap.parse_args()
    from playwright.sync_api import expect, sync_playwright

    server, base = serve()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        lec = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        lec.goto(base + "/")
        expect(lec.locator("#graph")).to_have_attribute("data-loads", "1", timeout=60_000)
        lec.select_option("#gallery", "mlp-training-step")
        expect(lec.locator("#graph")).to_have_attribute("data-loads", "2", timeout=60_000)
        lec.get_by_role("button", name="Share", exact=True).click()
        lec.locator("#share-dialog").get_by_role("button", name="Start class session").click()
        expect(lec.locator("#class-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=10_000)
        code = lec.inner_text("#class-code")
        lec.get_by_role("button", name="Start teaching").click()
        followers = []
        for _ in range(args.followers):
            pg = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            pg.goto(f"{base}/c/{code}")
            followers.append(pg)
        for pg in followers:
            expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=60_000)
            pg.evaluate(WATCH)
        sent = {}
        button = lec.get_by_role("button", name="Step forward", exact=True)
        for _ in range(args.steps):
            k = int(lec.get_attribute("#graph", "data-step")) + 1
            sent[str(k)] = lec.evaluate("Date.now()")
            button.click()
            lec.wait_for_timeout(args.gap_ms)
        last = str(max(int(k) for k in sent))
        for pg in followers:
            expect(pg.locator("#graph")).to_have_attribute("data-step", last, timeout=30_000)
        delays = []
        missed = 0
        for pg in followers:
            seen = pg.evaluate("window.__seen")
            for k, t0 in sent.items():
                if k in seen:
                    delays.append(seen[k] - t0)
                else:
                    missed += 1  # coalesced away: the lecturer's next step arrived first
        browser.close()
    server.should_exit = True
    load = open("/proc/loadavg").read().split()[:3]
    print(f"{args.followers} follower pages, {args.steps} steps {args.gap_ms} ms apart, load average {' '.join(load)}")
    print(f"step delivery ms: p50 {statistics.median(delays):.0f}, p95 {pct(delays, 95):.0f}, max {max(delays):.0f} "
          f"({len(delays)} deliveries, {missed} steps skipped by coalescing)")


if __name__ == "__main__":
    main()
