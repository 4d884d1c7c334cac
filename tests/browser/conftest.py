"""Browser-test fixtures: the real app on a free port (tracer in-process) and Debian's Chromium via Playwright."""
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GRADTRACE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_url():
    """uvicorn serving create_app() in a thread; GRADTRACE_BROWSER_SANDBOX=1 uses the real sandbox pool."""
    import uvicorn

    from gradtrace.api.app import create_app
    from gradtrace.config import Settings
    from gradtrace.runner import InProcessRunner

    runner = None if os.environ.get("GRADTRACE_BROWSER_SANDBOX") else InProcessRunner()
    app = create_app(Settings(), runner=runner)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser installs Debian's)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser, base_url, request):
    """A fresh 1280x720 page on the app; fails the test on any page error or CSP violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme="light")
    pg = context.new_page()
    problems, dialogs = [], []
    pg.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    pg.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.problems, pg.dialogs = problems, dialogs
    pg.goto(base_url + "/")
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed or problems or dialogs:  # a picture of what went wrong, not of every pass
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert not problems, problems
    assert not dialogs, dialogs


@pytest.fixture
def screen(browser, base_url):
    """open(path, w, h, dark=False, bypass_csp=False) → a page of that size, loaded; the test fails on any page
    error (bypass_csp only so a test can inject axe-core)."""
    contexts = []

    def open_(path: str, w: int, h: int, dark: bool = False, bypass_csp: bool = False):
        ctx = browser.new_context(viewport={"width": w, "height": h}, color_scheme="dark" if dark else "light",
                                  bypass_csp=bypass_csp)
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.problems = []
        pg.on("pageerror", lambda e: pg.problems.append(str(e)))
        pg.goto(base_url + path)
        from playwright.sync_api import expect

        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=60_000)
        return pg

    yield open_
    for c in contexts:
        for pg in c.pages:
            assert not pg.problems, pg.problems
        c.close()
