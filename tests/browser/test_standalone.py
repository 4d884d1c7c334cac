"""The standalone HTML file and the notebook view in headless Chromium: from file://, no server, no network."""
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

import gradtrace
from gradtrace.examples import example, examples
from gradtrace.export import render_svg, standalone_html, trace_program

from .conftest import ARTIFACTS
from .helpers import drawn_node_ids, drawn_tensor_ids, flat, shown_grad, step, steps

pytestmark = pytest.mark.browser

# Straight-line code: a `for` loop this long is folded by the tracer (first iterations + last), no longer big.
BIG = "import torch\nx = torch.ones(4, requires_grad=True)\ny = x\n" + "y = torch.sin(y) * 1.01 + 0.1\n" * 150 \
      + "y.sum().backward()\n"


@pytest.fixture
def offline(browser, tmp_path, request):
    """open(doc) → a page showing `doc` from a file:// URL; records every request and page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme="light")
    pages = []

    def open_doc(doc: str, name: str = "standalone.html"):
        path = tmp_path / name
        path.write_text(doc, encoding="utf-8")
        pg = context.new_page()
        pg.requests, pg.problems = [], []
        pg.on("request", lambda r: pg.requests.append(r.url))
        pg.on("pageerror", lambda e: pg.problems.append(f"pageerror: {e}"))
        pg.on("console", lambda m: m.type == "error" and pg.problems.append(f"console: {m.text}"))
        pg.goto(path.as_uri())
        pg.file_url = path.as_uri()
        pages.append(pg)
        return pg

    yield open_doc
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, pg in enumerate(pages):
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}{'-' + str(i) if i else ''}.png"))
    context.close()
    for pg in pages:
        assert not pg.problems, pg.problems
        assert pg.requests == [pg.file_url], "the standalone file must make no network requests"


def drawn(pg, timeout=30_000):
    expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=timeout)


def assert_final_grads(pg, trace):
    for t in trace["tensors"]:
        if t["grad"] is not None and t["grad"]["values"] is not None:
            got = shown_grad(pg, t["id"])
            got = got if isinstance(got, list) else [got]
            assert got == pytest.approx(flat(t["grad"]["values"]), rel=1e-6), t["name"]


def test_plays_to_the_end_from_file_with_no_network(offline):
    code = example("basic-mul")["code"]
    trace = trace_program(code)
    pg = offline(standalone_html(trace, code, title="Product rule"))
    drawn(pg)
    assert drawn_node_ids(pg) == {n["id"] for n in trace["nodes"]}
    assert drawn_tensor_ids(pg) == {t["id"] for t in trace["tensors"]}
    total = len(trace["forward"]) + sum(len(p["steps"]) for p in trace["backward"])
    assert steps(pg) == total and step(pg) == 0
    assert pg.title() == "Product rule"
    expect(pg.locator("#narration")).to_have_attribute("aria-live", "polite")
    pg.select_option("#speed", "10")
    pg.get_by_role("button", name="Play", exact=True).click()
    expect(pg.locator("#graph")).to_have_attribute("data-step", str(total), timeout=20_000)
    assert_final_grads(pg, trace)
    a = next(t for t in trace["tensors"] if t["name"] == "a")
    expect(pg.locator(f'[data-tensor-id="{a["id"]}"] .gradrow')).to_contain_text("[8, 64, 216]")
    expect(pg.locator("#narration")).to_contain_text("b.grad = [4, 32, 108]")


def test_buttons_keys_and_code_line(offline):
    code = example("chain-rule")["code"]
    trace = trace_program(code)
    pg = offline(standalone_html(trace, code))
    drawn(pg)
    seen = [pg.inner_text("#narration")]
    for key, want in [("ArrowRight", 1), ("PageDown", 2), ("ArrowRight", 3), ("ArrowLeft", 2), ("PageUp", 1), ("PageDown", 2)]:
        pg.keyboard.press(key)
        expect(pg.locator("#graph")).to_have_attribute("data-step", str(want))
        seen.append(pg.inner_text("#narration"))
    assert seen[1] != seen[0] and seen[2] != seen[1] and seen[4] == seen[2] and seen[5] == seen[1]
    line = trace["forward"][1]["line"]  # step 2 = the second forward op: its line is highlighted
    expect(pg.locator(f'#code .cm-step-line[data-line="{line}"]')).to_have_count(1)
    assert pg.locator("#code .cm-step-line").count() == 1
    pg.get_by_role("button", name="Step back", exact=True).click()
    assert step(pg) == 1
    pg.get_by_role("button", name="Step forward", exact=True).click()
    assert step(pg) == 2
    pg.keyboard.press("Space")  # plays
    expect(pg.get_by_role("button", name="Play", exact=True)).to_have_attribute("aria-pressed", "true")
    pg.keyboard.press("Space")  # pauses
    expect(pg.get_by_role("button", name="Play", exact=True)).to_have_attribute("aria-pressed", "false")
    pg.get_by_role("button", name="Reset", exact=True).click()
    assert step(pg) == 0
    pg.keyboard.press("End")
    assert step(pg) == steps(pg)
    assert_final_grads(pg, trace)


@pytest.mark.parametrize("ex", examples(), ids=lambda e: e["id"])
def test_every_gallery_example_ends_with_the_trace_grads(offline, ex):
    trace = trace_program(ex["code"])
    pg = offline(standalone_html(trace, ex["code"], title=ex["title"], step="end"))
    drawn(pg)
    assert step(pg) == steps(pg)
    assert drawn_node_ids(pg) == {n["id"] for n in trace["nodes"]}
    assert_final_grads(pg, trace)


def test_a_failing_program_shows_its_error(offline):
    code = "import torch\nx = torch.ones(2)\ny = x * 2\ny.sum().backward()\n"
    trace = trace_program(code)
    pg = offline(standalone_html(trace, code))
    drawn(pg)
    expect(pg.locator("#error")).to_be_visible()
    expect(pg.locator("#error-title")).to_contain_text("RuntimeError on line 4")
    expect(pg.locator('#code .cm-error-line[data-line="4"]')).to_have_count(1)
    assert step(pg) == steps(pg)  # a failed run opens at its end, where it stopped


def test_dark_theme_at_a_given_step_and_hidden_code(offline):
    code = example("apple-tangerine")["code"]
    trace = trace_program(code)
    pg = offline(standalone_html(trace, code, theme="dark", step=9, title="Apples and tangerines"))
    drawn(pg)
    assert pg.get_attribute("html", "data-theme") == "dark" and step(pg) == 9
    pg.get_by_role("button", name="Hide code").click()
    expect(pg.locator("#code")).to_be_hidden()
    pg.get_by_role("button", name="Toggle dark theme").click()
    assert pg.get_attribute("html", "data-theme") == "light"
    pg.get_by_role("button", name="Toggle dark theme").click()
    pg.wait_for_timeout(400)


def test_big_graph_lays_out_inline_without_a_worker(offline):
    trace = trace_program(BIG)
    assert len(trace["nodes"]) > 400
    pg = offline(standalone_html(trace, BIG, step="end"))
    t0 = time.monotonic()
    drawn(pg, timeout=90_000)
    took = time.monotonic() - t0
    assert step(pg) == steps(pg) > 400  # the loop's forward steps fold (issue 10); its 450+ nodes all run backward
    assert pg.locator("#graph [data-node-id]").count() > 0
    assert took < 60, took
    pg.keyboard.press("f")
    pg.wait_for_timeout(300)


def test_svg_render_of_the_end_state(browser):
    code = example("apple-tangerine")["code"]
    trace = trace_program(code)
    svg = render_svg(standalone_html(trace, code, step="end"), browser=browser)
    assert svg.startswith("<?xml")
    ids = set(re.findall(r'data-node-id="([^"]+)"', svg))
    assert ids == {n["id"] for n in trace["nodes"]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "apple-tangerine.svg").write_text(svg)
    # Look at it the way a slide would: as an <img>, with no stylesheet of the page around it.
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    path = ARTIFACTS / "apple-tangerine-svg.html"
    path.write_text('<body style="margin:0;background:#777"><img src="apple-tangerine.svg" style="max-width:100%">')
    pg.goto(path.as_uri())
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(ARTIFACTS / "test_svg_render_of_the_end_state.png"))
    context.close()


def test_notebook_iframe_runs(offline):
    """gradtrace.show()'s output in a page, as Jupyter puts it: the srcdoc iframe draws, steps and ends."""
    code = example("basic-mul")["code"]
    anim = gradtrace.show(code, height=520)
    pg = offline(f"<!doctype html><title>notebook</title><body style='width:900px'><h3>In [1]:</h3>"
                 f"{anim._repr_html_()}</body>", name="notebook.html")
    frame = pg.frame_locator("iframe")
    expect(frame.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
    expect(frame.locator("#graph")).to_have_attribute("data-step", "0")
    frame.get_by_role("button", name="Step forward", exact=True).click()
    frame.get_by_role("button", name="Step forward", exact=True).click()
    expect(frame.locator("#graph")).to_have_attribute("data-step", "2")
    expect(frame.locator("#narration")).not_to_be_empty()
    total = int(frame.locator("#graph").get_attribute("data-steps"))
    frame.locator("#graph").click(position={"x": 600, "y": 300})  # focus inside the frame, then keys work there
    frame.locator("body").press("End")
    expect(frame.locator("#graph")).to_have_attribute("data-step", str(total))
    a = next(t for t in anim.trace["tensors"] if t["name"] == "a")
    expect(frame.locator(f'[data-tensor-id="{a["id"]}"] .gradrow')).to_contain_text("[8, 64, 216]")


ARTIFACTS = Path(ARTIFACTS) / "standalone"
