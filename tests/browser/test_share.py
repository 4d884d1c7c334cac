"""Share links, short links, /embed in a foreign page, downloads and presenter mode, in headless Chromium."""
import functools
import http.server
import json
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, _free_port
from .helpers import drawn_node_ids, drawn_tensor_ids, run_example, step, steps, type_program, wait_loaded

pytestmark = pytest.mark.browser

CAUGHT = ("import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = (x * x).sum()\ny.backward()\n"
          "try:\n    y.backward()\nexcept RuntimeError:\n    print('caught')\nz = (x * 3).sum()\nz.backward()\n")


def forward(page, n):
    button = page.get_by_role("button", name="Step forward", exact=True)
    for _ in range(n):
        k = step(page)
        button.click()
        expect(page.locator("#graph")).to_have_attribute("data-step", str(k + 1))


def open_share(page) -> str:
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.locator("#share-dialog")).to_be_visible()
    expect(page.locator("#share-link")).to_have_value(re.compile(r"#v1\."))
    return page.input_value("#share-link")


def fresh_page(browser, viewport=(1280, 720)):
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme="light")
    pg = ctx.new_page()
    problems = []
    pg.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    pg.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    pg.problems = problems
    return ctx, pg


def snapshot(page) -> dict:
    return {"step": step(page), "steps": steps(page), "nodes": drawn_node_ids(page), "tensors": drawn_tensor_ids(page),
            "narration": page.inner_text("#narration"), "grads": page.eval_on_selector_all(
                "#graph [data-tensor-id]", "els => els.map(e => [e.dataset.tensorId, e.dataset.grad || null]).sort()")}


def test_share_link_reproduces_graph_and_step_in_a_fresh_context(page, browser):
    run_example(page, "mlp-training-step")
    # the module overview opens with its blocks closed; the Modules button opens them all: part of the view
    expect(page.locator("#graph .group.collapsed").first).to_be_visible()
    page.get_by_role("button", name="Modules").click()
    expect(page.locator("#graph .group.collapsed")).to_have_count(0)
    forward(page, 27)
    page.get_by_role("button", name="Toggle dark theme").click()
    link = open_share(page)
    assert "/#v1." in link and len(link) < 4000
    want = snapshot(page)
    ctx, other = fresh_page(browser)
    try:
        other.goto(link)
        expect(other.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        got = snapshot(other)
        assert got == want
        assert other.locator("#graph .group.collapsed").count() == 0  # not the overview a fresh load starts at
        assert other.locator("#graph .group").count() == page.locator("#graph .group").count() > 0
        assert other.get_attribute("html", "data-theme") == "dark"
        assert other.input_value("#gallery") == "mlp-training-step"
        other.screenshot(path=str(ARTIFACTS / "share-link-reopened.png"))
        assert not other.problems, other.problems
    finally:
        ctx.close()
    page.keyboard.press("Escape")


def test_url_follows_the_steps_and_a_pasted_link_is_applied(page):
    run_example(page, "basic-mul")
    forward(page, 3)
    page.wait_for_timeout(400)  # the URL is written at most every 250 ms
    at3 = page.url
    assert "#v1." in at3
    forward(page, 2)
    page.wait_for_timeout(400)
    assert page.url != at3
    n = int(page.get_attribute("#graph", "data-loads"))
    page.evaluate("u => { location.hash = new URL(u).hash; }", at3)  # like pasting the older link into this tab
    wait_loaded(page, n)
    assert step(page) == 3


def test_damaged_link_falls_back_to_an_example(browser, base_url):
    ctx, pg = fresh_page(browser)
    try:
        pg.goto(base_url + "/#v1.this-is-not-deflate")
        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        expect(pg.locator("#example-description")).to_contain_text("damaged")
        assert pg.input_value("#gallery") == "basic-mul"
    finally:
        ctx.close()


def test_short_link_round_trip(page, browser, base_url):
    code = "import torch\nw = torch.tensor([0.5, -1.5], requires_grad=True)\nloss = (w * torch.randn(2)).sum()\nloss.backward()\n"
    page.fill("#seed", "7")
    trace = type_program(page, code)
    open_share(page)
    page.get_by_role("button", name="Short link", exact=True).click()
    expect(page.locator("#short-link-url")).to_be_visible()
    short = page.input_value("#short-link-url")
    assert short.startswith(base_url + "/s/")
    ctx, other = fresh_page(browser)
    try:
        other.goto(short)
        expect(other.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        assert other.input_value("#seed") == "7"
        assert other.locator(".cm-content").inner_text().strip() == code.strip()
        assert drawn_node_ids(other) == {n["id"] for n in trace["nodes"]}
        other.keyboard.press("End")
        expect(other.locator("#graph")).to_have_attribute("data-step", str(steps(other)))
        w = next(t for t in trace["tensors"] if t["name"] == "w")
        assert json.loads(other.get_attribute(f'[data-tensor-id="{w["id"]}"]', "data-value")) == w["data"]["values"]
        other.wait_for_timeout(400)
        assert "/s/" not in other.url and "#v1." in other.url  # the page now carries the exact long link
        assert not other.problems, other.problems
        missing = other.goto(base_url + "/s/doesnotexist")
        assert missing.status == 404 and "Snippet not found" in other.content()
    finally:
        ctx.close()
    page.keyboard.press("Escape")


class _Host:
    """A second HTTP server (another origin) serving one page with our iframe in it."""

    def __init__(self, html: str):
        self.dir = ARTIFACTS.parent / "embed-host"
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "index.html").write_text(html.replace("<!doctype html>", '<!doctype html><link rel="icon" href="data:,">', 1))
        handler = functools.partial(_Quiet, directory=str(self.dir))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://localhost:{self.server.server_port}/index.html"  # localhost ≠ 127.0.0.1: another origin

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_embed_renders_in_an_iframe_on_another_origin_and_steps(page, browser, base_url):
    run_example(page, "apple-tangerine")
    forward(page, 4)
    open_share(page)
    page.fill("#embed-width", "720")
    page.fill("#embed-height", "480")
    code = page.input_value("#embed-code")
    assert code.startswith(f'<iframe src="{base_url}/embed#v1.') and 'width="720" height="480"' in code
    page.keyboard.press("Escape")
    small = code.replace('width="720" height="480"', 'width="400" height="330"')
    host = _Host(f"<!doctype html><meta charset=utf-8><title>Course page</title><h1>Lecture 4: backprop</h1>{code}<p>Small:</p>{small}")
    ctx, pg = fresh_page(browser, (1280, 1000))
    try:
        pg.goto(host.url)
        frame = pg.frame_locator("iframe").first
        expect(frame.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        assert frame.locator("#graph").get_attribute("data-step") == "4"
        assert frame.locator("#editor").count() == 0
        frame.get_by_role("button", name="Step forward", exact=True).click()
        expect(frame.locator("#graph")).to_have_attribute("data-step", "5")
        expect(frame.locator("#narration")).not_to_be_empty()
        assert frame.locator("#graph [data-node-id]").count() > 5
        pg.wait_for_timeout(400)
        href = frame.locator("#open-full").get_attribute("href")
        assert href.startswith(base_url + "/#v1.")
        small_frame = pg.frame_locator("iframe").nth(1)
        expect(small_frame.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        box = pg.locator("iframe").nth(1).bounding_box()
        assert box["width"] == pytest.approx(400, abs=2) and box["height"] == pytest.approx(330, abs=2)
        pg.screenshot(path=str(ARTIFACTS / "embed-on-another-origin.png"), full_page=True)
        assert not pg.problems, pg.problems
    finally:
        ctx.close()
        host.close()


def test_embed_works_in_slides_opened_from_a_file(browser, base_url, tmp_path):
    state = "v1j.eyJ2IjoxLCJjIjoiaW1wb3J0IHRvcmNoXG5hID0gdG9yY2gudGVuc29yKDIuLCByZXF1aXJlc19ncmFkPVRydWUpXG5iID0gYSAqIDNcbmIuYmFja3dhcmQoKVxuIn0"
    slide = tmp_path / "slide.html"
    slide.write_text(f'<!doctype html><title>Slide 3</title><iframe src="{base_url}/embed#{state}" width="640" height="420"></iframe>')
    ctx, pg = fresh_page(browser)
    try:
        pg.goto(slide.as_uri())
        frame = pg.frame_locator("iframe")
        expect(frame.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        frame.get_by_role("button", name="Step forward", exact=True).click()
        expect(frame.locator("#graph")).to_have_attribute("data-step", "1")
        expect(frame.locator("#narration")).to_contain_text("a = torch.tensor(2., requires_grad=True)")
    finally:
        ctx.close()


def test_main_page_refuses_foreign_framing(browser, base_url):
    host = _Host(f'<!doctype html><iframe id="f" src="{base_url}/" width="600" height="400"></iframe>')
    ctx, pg = fresh_page(browser)
    try:
        r = pg.request.get(base_url + "/")
        assert "frame-ancestors 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        pg.goto(host.url)
        pg.wait_for_timeout(1500)
        frame = next(f for f in pg.frames if f != pg.main_frame)
        assert frame.locator("#graph").count() == 0  # blocked: the frame shows Chromium's error page
    finally:
        ctx.close()
        host.close()


def test_presenter_mode_enlarges_text_and_travels_in_the_link(page, browser):
    run_example(page, "basic-mul")
    forward(page, 6)
    def size(pg):
        return float(pg.eval_on_selector("#narration", "e => parseFloat(getComputedStyle(e).fontSize)"))
    before = size(page)
    page.screenshot(path=str(ARTIFACTS / "presenter-off.png"))
    page.get_by_role("button", name="Presenter mode").click()
    expect(page.locator("html")).to_have_class("presenter")
    assert size(page) >= 1.4 * before
    assert page.locator(".cm-editor").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 20
    page.screenshot(path=str(ARTIFACTS / "presenter-on.png"))
    link = open_share(page)
    page.keyboard.press("Escape")
    ctx, other = fresh_page(browser)
    try:
        other.goto(link)
        expect(other.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        expect(other.locator("html")).to_have_class("presenter")
        assert other.get_attribute("#presenter", "aria-pressed") == "true"
        assert size(other) >= 1.4 * before
    finally:
        ctx.close()
    page.get_by_role("button", name="Presenter mode").click()
    assert size(page) == before


def download(page, label) -> Path:
    with page.expect_download() as d:
        page.get_by_role("button", name=label, exact=True).click()
    out = ARTIFACTS / "downloads" / d.value.suggested_filename
    out.parent.mkdir(parents=True, exist_ok=True)
    d.value.save_as(out)
    return out


def test_downloads_svg_png_and_standalone_html(page):
    trace = run_example(page, "apple-tangerine")
    forward(page, 20)
    open_share(page)
    svg = download(page, "Download SVG")
    assert svg.name.startswith("gradtrace-") and svg.name.endswith("-step20.svg")
    root = ET.parse(svg).getroot()  # valid XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    ids = {el.get("data-node-id") for el in root.iter() if el.get("data-node-id")}
    assert ids == {n["id"] for n in trace["nodes"]}
    assert "var(--" not in svg.read_text()  # styles resolved, nothing left to a stylesheet
    png = download(page, "Download PNG")
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert w >= 2 * int(root.get("width")) - 2 and h >= 2 * int(root.get("height")) - 2
    html = download(page, "Download standalone HTML")
    text = html.read_text()
    assert html.suffix == ".html" and '"step":20' in text and trace["nodes"][0]["name"] in text
    expect(page.locator("#share-status")).to_contain_text("Saved")
    page.keyboard.press("Escape")
    assert step(page) == 20


def test_caught_backward_error_is_a_step(page):
    trace = type_program(page, CAUGHT)
    failed = next(p for p in trace["backward"] if p["error"])
    assert steps(page) == len(trace["forward"]) + sum(len(p["steps"]) + bool(p["error"]) for p in trace["backward"])
    button = page.get_by_role("button", name="Step forward", exact=True)
    while "failed" not in page.inner_text("#narration-title").lower():
        assert step(page) < steps(page), "the failed backward call never showed"
        button.click()
    expect(page.locator("#narration")).to_contain_text(failed["error"]["message"][:50])
    expect(page.locator("#narration")).to_contain_text("caught the error")
    expect(page.locator(f'.cm-step-line[data-line="{failed["line"]}"]')).to_have_count(1)
