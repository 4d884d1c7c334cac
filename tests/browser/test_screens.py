"""Every lecture screen: phone, projector in presenter mode, small and medium embeds; focus after Run; axe-core."""
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .helpers import code_of, run_example, shoot

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def screen(screen):
    """The shared screen fixture with CSP bypassed, so these tests can inject axe-core."""
    return lambda path, w, h, **kw: screen(path, w, h, bypass_csp=True, **kw)


def no_sideways_scroll(pg):
    w = pg.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert w[0] <= w[1], f"sideways scroll: {w}"


def inside_viewport(pg, locator):
    box = locator.bounding_box()
    vw, vh = pg.viewport_size["width"], pg.viewport_size["height"]
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= vw and box["y"] + box["height"] <= vh, box


def narration_whole(pg, must_fit=False):
    """The narration is shown whole: it fits its box (type shrunk if needed), or it scrolls (mouse and keyboard)."""
    pg.wait_for_function("() => document.getElementById('graph').dataset.measured === document.getElementById('graph').dataset.step")
    h = pg.evaluate("""() => { const n = document.getElementById('narration'); const cs = getComputedStyle(n);
        return [n.scrollHeight, n.clientHeight, parseFloat(cs.fontSize), cs.overflowY, n.tabIndex]; }""")
    fits = h[0] <= h[1] + 1
    assert fits or (not must_fit and h[3] in ("auto", "scroll") and h[4] == 0), f"narration cut: {h}"
    return h[2]


def link(pg, code: str, **state) -> str:
    return pg.evaluate("""async ([code, st]) => (await import('/static/js/wire/url-state.js')).encodeState({code, seed: 0, ...st})""", [code, state])


def test_phone(screen):
    pg = screen("/", 390, 844)
    no_sideways_scroll(pg)
    run = pg.get_by_role("button", name="Run")
    inside_viewport(pg, run)
    for sel in ("#graph", "#narration", ".controls"):
        box = pg.locator(sel).bounding_box()
        assert box["height"] >= 30 and box["width"] >= 300, (sel, box)
    run.click()
    expect(pg.locator("#graph")).to_have_attribute("data-loads", "2", timeout=30_000)
    inside_viewport(pg, pg.get_by_role("button", name="Step forward"))
    pg.get_by_role("button", name="Step forward").click()
    expect(pg.locator("#graph")).to_have_attribute("data-step", "1")
    no_sideways_scroll(pg)
    shoot(pg, "screen-phone-390x844")


@pytest.mark.parametrize("w,h", [(1024, 768), (1100, 700)])
def test_laptop_without_presenter_mode_has_no_sideways_scroll(screen, w, h):
    pg = screen("/", w, h)
    run_example(pg, "mlp-training-step")
    no_sideways_scroll(pg)
    for name in ("Run", "Share", "Presenter mode", "Hide code", "Toggle dark theme", "Keyboard help"):
        inside_viewport(pg, pg.get_by_role("button", name=name))


def test_projector_presenter(screen):
    pg = screen("/", 1024, 768)
    run_example(pg, "mlp-training-step")
    pg.get_by_role("button", name="Presenter mode").click()
    no_sideways_scroll(pg)
    for name in ("Run", "Share", "Presenter mode", "Hide code", "Toggle dark theme", "Keyboard help"):
        inside_viewport(pg, pg.get_by_role("button", name=name))
    assert pg.locator("#scrubber").bounding_box()["width"] >= 120, "the scrubber stays usable"
    # every button of the graph's toolbar (levels, Optim, Card, Quiz came from separate pieces) is whole in the pane
    pane = pg.locator("#graph").bounding_box()
    tools = pg.locator("#graph .graph-tools .btn:visible")
    assert tools.count() >= 10
    for i in range(tools.count()):
        b = tools.nth(i).bounding_box()
        assert pane["x"] <= b["x"] and b["x"] + b["width"] <= pane["x"] + pane["width"], (tools.nth(i).get_attribute("aria-label"), b, pane)
    total = int(pg.get_attribute("#graph", "data-steps"))
    pg.locator("#graph svg").first.focus()
    sizes = []
    for k in range(1, total + 1):  # quick clicks through the whole timeline, forward and backward steps
        pg.keyboard.press("ArrowRight")
        if k % 4 == 0 or k == total:
            expect(pg.locator("#graph")).to_have_attribute("data-step", str(k))
            sizes.append(narration_whole(pg, must_fit=True))
    assert min(sizes) >= 15, f"narration type too small on a projector: {sizes}"
    # after quick clicks the follow settles: the active node is in view, below the toolbar, at a readable scale
    pg.keyboard.press("Home")
    for _ in range(12):
        pg.keyboard.press("ArrowRight")
    pg.wait_for_timeout(900)
    scale = pg.evaluate("() => window.gradtrace.view.transform.k")
    assert scale >= 1.15 - 1e-6, scale
    active = pg.locator("#graph g.node.active, #graph .group.collapsed.active").first.bounding_box()  # or the closed block it runs in
    pane = pg.locator("#graph").bounding_box()
    assert active["y"] >= pane["y"] + 40 and active["y"] + active["height"] <= pane["y"] + pane["height"], (active, pane)
    shoot(pg, "screen-projector-1024x768")


@pytest.mark.parametrize("w,h", [(400, 300), (800, 560)])
def test_embed_sizes(screen, w, h):
    pg = screen("/", 1280, 720)
    code = code_of(pg, "mlp-training-step")
    frag = link(pg, code)
    pg.set_viewport_size({"width": w, "height": h})
    pg.goto(pg.url.split("#")[0].rstrip("/") + f"/embed#{frag}")
    expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
    no_sideways_scroll(pg)
    total = int(pg.get_attribute("#graph", "data-steps"))
    pg.locator("#graph svg").first.focus()
    for k in range(1, total + 1):
        pg.keyboard.press("ArrowRight")
        expect(pg.locator("#graph")).to_have_attribute("data-step", str(k))
        narration_whole(pg)
    if w >= 800:  # graph text readable: every drawn name (op names, or the module overview's block titles) at least 9 px tall
        heights = pg.eval_on_selector_all("#graph g.node text, #graph .group text", "els => els.filter(e => e.getBoundingClientRect().width).map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 9, heights
    shoot(pg, f"screen-embed-{w}x{h}")


def test_focus_leaves_the_editor_after_run(screen):
    pg = screen("/", 1280, 720)
    pg.locator(".cm-content").click()
    pg.keyboard.press("Control+Enter")
    expect(pg.locator("#graph")).to_have_attribute("data-loads", "2", timeout=30_000)
    assert not pg.evaluate("() => !!document.activeElement.closest('.cm-editor')"), "focus is still in the editor"
    pg.keyboard.press("ArrowRight")
    expect(pg.locator("#graph")).to_have_attribute("data-step", "1")


def axe(pg) -> list:
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate("""async () => {
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }));
    }""")
    return result


@pytest.mark.parametrize("where", ["page", "presenter", "embed", "quiz-and-card", "dark"])
def test_axe_no_serious_violations(screen, where):
    pg = screen("/", 1280, 720)
    if where == "embed":
        frag = link(pg, code_of(pg, "basic-mul"), step=7)
        pg.goto(pg.url.split("#")[0].rstrip("/") + f"/embed#{frag}")
        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
    if where == "presenter":
        pg.get_by_role("button", name="Presenter mode").click()
    if where == "dark":
        pg.get_by_role("button", name="Toggle dark theme").click()
    if where == "quiz-and-card":
        pg.get_by_role("button", name="Quiz").click()
        pg.locator("#graph svg").first.focus()
        for _ in range(7):
            pg.keyboard.press("ArrowRight")
        expect(pg.locator("#quiz")).to_be_visible()
    assert pg.locator("h1").count() >= 1
    expect(pg.get_by_role("button", name="Run", exact=True)).to_have_count(0 if where == "embed" else 1)
    bad = [v for v in axe(pg) if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, indent=1)
