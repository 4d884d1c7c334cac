"""A busy server is waited out with a countdown (cancellable); short links and repeat opens fetch traces by GET."""
import json
import re
import threading
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import _free_port

pytestmark = pytest.mark.browser
SPIN = "import time\ntime.sleep(60)\n"  # holds the worker until the wall-clock limit, at no CPU cost


@pytest.fixture(scope="module")
def busy_server():
    """The real sandbox with one worker and no queue: one spinning program makes it answer 503."""
    import uvicorn

    from gradtrace.api.app import create_app
    from gradtrace.config import Settings

    # idle_limit_s past the wall clock: the sandbox would otherwise stop the sleeping blocker within ~1 s (idle stop)
    app = create_app(Settings(workers=1, queue_size=0, timeout_s=4.0, cpu_s=3, idle_limit_s=30.0))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(base + "/api/v1/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.2)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def _post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def _occupy(base, tag):
    """Hold the only worker for ~4 s (a distinct program each time: the cache must not answer it)."""
    t = threading.Thread(target=_post, args=(base, "/api/v1/traces", {"code": f"# {tag}\n{SPIN}"}), daemon=True)
    t.start()
    deadline = time.monotonic() + 10  # until the worker is taken (health says so), not a fixed wait
    while _busy(base) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    return t


def _busy(base) -> int:
    """Workers running a program now, as /api/v1/health reports them."""
    with urllib.request.urlopen(base + "/api/v1/health", timeout=5) as r:
        return json.loads(r.read())["runner"]["busy"]


def _context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    return ctx, pg


def test_page_counts_down_and_retries_until_the_server_has_room(browser, busy_server, tmp_path):
    blocker = _occupy(busy_server, time.time())
    ctx, pg = _context(browser)
    try:
        pg.goto(busy_server + "/")
        expect(pg.locator("#run-status")).to_contain_text("Busy — retrying in", timeout=15_000)
        pg.screenshot(path=str(tmp_path / "busy.png"))
        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        assert "busy" not in pg.inner_text("#run-status") and not pg.errors, pg.errors
    finally:
        ctx.close()
        blocker.join()


def test_the_wait_can_be_cancelled(browser, busy_server):
    ctx, pg = _context(browser)
    try:
        pg.goto(busy_server + "/")
        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        pg.locator(".cm-content").click()
        pg.keyboard.press("Control+a")
        pg.keyboard.press("Delete")
        pg.keyboard.insert_text(f"x = {time.time()}\n")  # never traced before: the cache cannot answer it
        blocker = _occupy(busy_server, time.time())
        pg.get_by_role("button", name="Run", exact=True).click()
        expect(pg.locator("#run-status")).to_contain_text("retrying in", timeout=15_000)
        pg.get_by_role("button", name="Cancel", exact=True).click()
        expect(pg.locator("#run-status")).to_have_text("Cancelled.")
        blocker.join()
        pg.wait_for_timeout(3000)  # past any Retry-After: a cancelled wait never comes back
        assert pg.get_attribute("#graph", "data-loads") == "1" and not pg.errors, pg.errors
        expect(pg.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    finally:
        ctx.close()


def test_short_link_and_repeat_opens_fetch_the_trace_by_get(browser, busy_server):
    code = "import torch\nw = torch.tensor([2.0, -1.0], requires_grad=True)\n(w ** 3).sum().backward()\n"
    _, snip = _post(busy_server, "/api/v1/snippets", {"code": code, "seed": 4})
    for _ in range(2):  # a new visitor each time: the first short-link open runs it, the next are served cached
        ctx, pg = _context(browser)
        calls = []
        pg.on("request", lambda r, calls=calls: "/api/v1/" in r.url and calls.append((r.method, r.url.split("/api/v1/")[1])))
        try:
            pg.goto(busy_server + snip["url"])
            expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
            assert ("GET", f"snippets/{snip['id']}/trace?format=compact&compact_version=2") in calls and ("POST", "traces") not in calls, calls
            expect(pg).to_have_url(re.compile(r"#v1\."))  # the page writes the exact long link
            link = pg.url
        finally:
            ctx.close()
    ctx, pg = _context(browser)  # the long link the page wrote: the page computes the key and GETs the trace
    calls = []
    pg.on("request", lambda r: "/api/v1/traces" in r.url and calls.append(r.method))
    try:
        pg.goto(link)
        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        assert calls == ["GET"], calls
    finally:
        ctx.close()
