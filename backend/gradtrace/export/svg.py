"""The graph at one step as a self-contained SVG: the standalone HTML, drawn by headless Chromium.

The page's renderer lays out and styles the graph; the browser resolves its CSS into plain SVG
attributes (view/svg-export.js). Playwright drives the browser; a system Chromium is preferred.
"""
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

from .standalone import ExportError, standalone_html

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOWTO = ("SVG export draws the graph in headless Chromium through Playwright. Install both, e.g. "
         "`pip install playwright` and `apt install chromium` (or `playwright install chromium`), "
         "or set GRADTRACE_CHROMIUM to a Chromium/Chrome binary. The .html export needs neither.")


def find_chromium() -> str | None:
    """A Chromium binary: $GRADTRACE_CHROMIUM, else the first on PATH; None lets Playwright use its own."""
    env = os.environ.get("GRADTRACE_CHROMIUM")
    if env:
        return env
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def svg_from_trace(trace: dict, code: str, *, title: str | None = None, theme: str = "light", step="end",
                   timeout: float = 120.0) -> str:
    return render_svg(standalone_html(trace, code, title=title, theme=theme, step=step), timeout=timeout)


def render_svg(html: str, *, browser=None, timeout: float = 120.0) -> str:
    """Open a standalone document in Chromium and return its graph as an SVG document string.

    Runs on a thread of its own unless `browser` (a Playwright Browser) is given, so it works under
    an asyncio loop (Jupyter) and beside another Playwright session.
    """
    if browser is not None:
        return _draw(browser, html, timeout)
    with ThreadPoolExecutor(1, thread_name_prefix="gradtrace-svg") as pool:
        return pool.submit(_launch_and_draw, html, timeout).result()


def _launch_and_draw(html: str, timeout: float) -> str:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise ExportError("Playwright is not installed. " + HOWTO) from None
    exe = find_chromium()
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=exe, args=ARGS) if exe else p.chromium.launch(args=ARGS)
        except Error as exc:
            where = exe or "Playwright's own Chromium"
            raise ExportError(f"could not start {where}: {str(exc).splitlines()[0]}. " + HOWTO) from None
        try:
            return _draw(browser, html, timeout)
        finally:
            browser.close()


def _draw(browser, html: str, timeout: float) -> str:
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, reduced_motion="reduce")
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # Nothing may be fetched: the document is whole, and an export must not phone anywhere.
        page.route("**/*", lambda route: route.abort())
        page.set_content(html, wait_until="load")
        try:
            page.wait_for_selector('#graph[data-loads="1"]', state="attached", timeout=timeout * 1000)
        except Exception:
            raise ExportError("the graph was not drawn: " + ("; ".join(errors) or "timed out")) from None
        svg = page.evaluate("() => window.gradtrace.svg()")
    finally:
        context.close()
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n"
