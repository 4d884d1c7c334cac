"""Lecture screens (issue 17 item 6): the chain-rule card can be hidden and keeps off the active node's inputs and
outputs; Hide code gives the graph the whole width; phones show a readable graph with the toolbar off the nodes;
unreached nodes are readable in dark mode (WCAG contrast from computed styles); the loss chart reads values on
hover; a 400×300 embed shows its narration whole or scrollable; grad rows name their tensor."""
import json
import re

import pytest
from playwright.sync_api import expect

from .helpers import code_of, fetch_trace, shoot
from .test_loops import POLYNOMIAL, plain_torch

pytestmark = pytest.mark.browser

PHONE_TEXT_PX = 11  # the smallest readable graph text on a phone (names 14 px and op names 12 px times the zoom)


# The step's card placed (data-measured, one frame after the step is drawn) and no pan or zoom of the camera (d3
# transition "view": the follow to the active node, the pan that makes room for the card) still under way.
SETTLED = """() => { const g = document.getElementById('graph');
  if (g.dataset.measured !== g.dataset.step) return false;
  return ![...g.querySelectorAll('svg')].some((s) => Object.values(s.__transition || {}).some((t) => t.name === 'view'));
}"""


def settled(pg, k=None):
    """Step k drawn, its card placed (one frame later) and any pan that made room for it finished (waited for as
    it ends, then one more frame, rather than for a fixed time)."""
    if k is not None:
        expect(pg.locator("#graph")).to_have_attribute("data-step", str(k))
    pg.wait_for_function(SETTLED)
    pg.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def overlap(a, b) -> bool:
    return not (a["x"] >= b["x"] + b["width"] or a["x"] + a["width"] <= b["x"] or a["y"] >= b["y"] + b["height"] or a["y"] + a["height"] <= b["y"])


# The active node's box and its inputs' and outputs' (the graph's edges at that node), as drawn on screen.
NEIGHBOURS = """() => {
  // the active backward node; on an optimizer's step (an update card) the parameter it updates
  const upd = document.querySelector('#chain-card.update-card:not([hidden])');
  const g = window.gradtrace.app.graph, act = document.querySelector(upd ? '#graph g.node.tensor.active' : '#graph g.node.active[data-node-id]');
  if (!act) return null;
  const key = act.dataset.key, box = (el) => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; };
  const keys = [...g.edges.values()].filter((e) => e.source === key || e.target === key).map((e) => (e.source === key ? e.target : e.source));
  const near = keys.map((k) => document.querySelector(`#graph g.node[data-key="${k}"]`)).filter(Boolean).map((el) => ({key: el.dataset.key, ...box(el)}));
  return {key, active: box(act), near};
}"""


def card_clear_of_neighbours(pg):
    card = pg.locator("#chain-card")
    if not card.is_visible():
        return None
    geo = pg.evaluate(NEIGHBOURS)
    box = card.bounding_box()
    assert not overlap(box, geo["active"]), ("card over the active node", box, geo)
    for n in geo["near"]:
        assert not overlap(box, n), (f"card over {n['key']}, an input/output of {geo['key']}", box, geo)
    return geo


def test_presenter_card_hides_and_keeps_off_the_neighbours(screen):
    pg = screen("/", 1024, 768)  # basic-mul: c = a * b, d = c ** 2, e = d.sum()
    pg.get_by_role("button", name="Presenter mode").click()
    total = int(pg.get_attribute("#graph", "data-steps"))
    pg.locator("#graph svg").first.focus()
    checked = 0
    for k in range(1, total + 1):
        pg.keyboard.press("ArrowRight")
        settled(pg, k)
        if card_clear_of_neighbours(pg):
            checked += 1
    assert checked >= 4, "the card showed on the backward steps"
    card = pg.locator("#chain-card")
    toggle = pg.get_by_role("button", name="Chain-rule card", exact=True)
    # the card's own button hides it; it stays hidden on the next steps; the toolbar's Card button brings it back
    pg.keyboard.press("Home")
    for _ in range(6):
        pg.keyboard.press("ArrowRight")
    settled(pg, 6)
    expect(card).to_be_visible()
    pg.get_by_role("button", name="Hide chain-rule card").click()
    expect(card).to_be_hidden()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    pg.locator("#graph svg").first.focus()
    pg.keyboard.press("ArrowRight")
    settled(pg, 7)
    expect(card).to_be_hidden()
    shoot(pg, "lecture-presenter-1024x768-card-hidden")
    toggle.click()
    expect(card).to_be_visible()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    # Escape hides it too
    pg.locator("#graph svg").first.focus()
    pg.keyboard.press("Escape")
    expect(card).to_be_hidden()
    toggle.click()
    expect(card).to_be_visible()
    settled(pg)
    card_clear_of_neighbours(pg)


def test_final_frame_card_and_edge_labels_hide_nothing(screen):
    pg = screen("/", 1024, 768)
    pg.get_by_role("button", name="Presenter mode").click()
    pg.locator("#graph svg").first.focus()
    pg.keyboard.press("End")
    settled(pg, int(pg.get_attribute("#graph", "data-steps")))
    card_clear_of_neighbours(pg)
    card = pg.locator("#chain-card").bounding_box()
    for name in ("a", "b"):  # the leaves and their .grad rows stay in sight
        leaf = pg.locator("#graph g.node.tensor.leaf", has=pg.locator("text.name", has_text=re.compile(f"^{name}$"))).first
        assert not overlap(card, leaf.bounding_box()), (name, card, leaf.bounding_box())
    rows = pg.eval_on_selector_all("#graph g.gradrow", "els => els.map(e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })")
    labels = pg.eval_on_selector_all("#graph g.grad-wait rect", "els => els.map(e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })")
    for lab in labels:
        for row in rows:
            assert not overlap(lab, row), ("an edge label over a grad row", lab, row)


@pytest.mark.parametrize("w,h,presenter", [(1024, 768, True), (1920, 1080, True), (1400, 900, False)])
def test_hide_code_gives_the_graph_the_whole_width(screen, w, h, presenter):
    pg = screen("/", w, h)
    if presenter:
        pg.get_by_role("button", name="Presenter mode").click()
    before = pg.locator("#graph").bounding_box()["width"]
    pg.get_by_role("button", name="Hide code").click()
    expect(pg.get_by_role("button", name="Show code")).to_have_attribute("aria-pressed", "true")
    pg.wait_for_timeout(400)
    graph = pg.locator("#graph").bounding_box()
    assert graph["x"] <= 1 and graph["width"] >= w - 2, (graph, w)
    assert graph["width"] > before
    pg.get_by_role("button", name="Show code").click()
    pg.wait_for_timeout(300)
    assert abs(pg.locator("#graph").bounding_box()["width"] - before) <= 2


def graph_text_px(pg):
    """On-screen px of the graph's names and op names that are in the pane (font size times the zoom)."""
    return pg.evaluate("""() => { const k = window.gradtrace.view.transform.k, pane = document.getElementById('graph').getBoundingClientRect();
      return [...document.querySelectorAll('#graph g.node text.name, #graph g.node text.opname')].filter((t) => {
        const r = t.getBoundingClientRect(); return r.width > 0 && r.left >= pane.left && r.right <= pane.right && r.top >= pane.top && r.bottom <= pane.bottom;
      }).map((t) => parseFloat(getComputedStyle(t).fontSize) * k); }""")


def nodes_under_toolbar(pg):
    """Nodes whose visible part (clipped to the graph's SVG) lies under the graph toolbar."""
    return pg.evaluate("""() => { const bar = document.querySelector('#graph .graph-tools').getBoundingClientRect();
      const svg = document.querySelector('#graph > svg').getBoundingClientRect();
      return [...document.querySelectorAll('#graph g.node')].filter((n) => { const b = n.getBoundingClientRect();
        const r = {left: Math.max(b.left, svg.left), right: Math.min(b.right, svg.right), top: Math.max(b.top, svg.top), bottom: Math.min(b.bottom, svg.bottom)};
        return r.right > r.left && r.bottom > r.top && r.left < bar.right && r.right > bar.left && r.top < bar.bottom && r.bottom > bar.top; }).map((n) => n.dataset.key); }""")


@pytest.mark.parametrize("w,h", [(390, 844), (844, 390)])
def test_phone_shows_a_readable_graph(screen, w, h):
    pg = screen("/", w, h)
    assert pg.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    svg = pg.locator("#graph svg").first.bounding_box()
    assert svg["height"] >= 200 and svg["height"] >= 0.45 * h and svg["width"] >= 300, svg
    for name in ("Run", "Step forward", "Step back"):
        box = pg.get_by_role("button", name=name, exact=True).bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= w and box["y"] + box["height"] <= h, (name, box)
    total = int(pg.get_attribute("#graph", "data-steps"))
    pg.locator("#graph svg").first.focus()
    seen = []
    for k in range(0, total + 1):
        if k:
            pg.keyboard.press("ArrowRight")
        settled(pg, k)
        assert not nodes_under_toolbar(pg), f"step {k}: the toolbar covers {nodes_under_toolbar(pg)}"
        px = graph_text_px(pg)
        if k > 0:
            assert px and min(px) >= PHONE_TEXT_PX, f"step {k}: graph text {px}"
        seen.append(k)
        if k == 3:
            shoot(pg, f"lecture-phone-{w}x{h}")
    assert len(seen) == total + 1


# Contrast of every unreached node, from computed styles: text on its box, outline on the pane (opacity blended in).
CONTRAST = """() => {
  const rgb = (s) => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const v = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1}; };
  const over = (fg, bg, a) => ({r: fg.r * a + bg.r * (1 - a), g: fg.g * a + bg.g * (1 - a), b: fg.b * a + bg.b * (1 - a)});
  const lum = (c) => { const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const opacity = (el) => { let o = 1; for (let e = el; e && e.tagName !== 'svg'; e = e.parentElement) o *= Number(getComputedStyle(e).opacity); return o; };
  const pane = rgb(getComputedStyle(document.getElementById('graph')).backgroundColor);
  const out = [];
  for (const node of document.querySelectorAll('#graph g.node.future')) {
    const box = node.querySelector(':scope > .box'); const cs = getComputedStyle(box);
    const fillC = rgb(cs.fill), strokeC = rgb(cs.stroke);
    const fill = fillC ? over(fillC, pane, fillC.a * Number(cs.fillOpacity) * opacity(box)) : pane;
    const stroke = over(strokeC, pane, strokeC.a * Number(cs.strokeOpacity) * opacity(box));
    const texts = [...node.querySelectorAll('text')].filter((t) => getComputedStyle(t).visibility !== 'hidden' && t.textContent.trim());
    const textRatio = Math.min(...texts.map((t) => { const c = rgb(getComputedStyle(t).fill); return ratio(over(c, fill, c.a * Number(getComputedStyle(t).fillOpacity) * opacity(t)), fill); }));
    out.push({key: node.dataset.key, text: textRatio, outline: ratio(stroke, pane)});
  }
  return out;
}"""


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_unreached_nodes_are_readable(screen, theme):
    pg = screen("/", 1400, 900, dark=theme == "dark")
    if pg.evaluate("() => document.documentElement.dataset.theme") != theme:
        pg.get_by_role("button", name="Toggle dark theme").click()
    assert pg.evaluate("() => document.documentElement.dataset.theme") == theme
    pg.locator("#graph svg").first.focus()
    for _ in (1, 2):  # mid-forward: the leaves made, the rest not reached yet
        pg.keyboard.press("ArrowRight")
    settled(pg, 2)
    rows = pg.evaluate(CONTRAST)
    assert len(rows) >= 5, rows
    bad = [r for r in rows if r["text"] < 4.5 or r["outline"] < 3]
    assert not bad, json.dumps(bad)
    if theme == "dark":
        shoot(pg, "lecture-dark-mid-forward")


def test_loss_chart_hover_reads_torchs_loss_and_enlarges(screen):
    pg = screen("/", 1400, 900)
    pg.set_default_timeout(60_000)
    editor = pg.locator(".cm-content")
    editor.click()
    pg.keyboard.press("Control+a")
    pg.keyboard.press("Delete")
    pg.keyboard.insert_text(POLYNOMIAL)
    pg.get_by_role("button", name="Run", exact=True).click()
    expect(pg.locator("#graph")).to_have_attribute("data-loads", "2", timeout=120_000)  # 2,000 iterations traced
    oracle = plain_torch()["loss"]
    chart = pg.locator("svg.loop-chart")
    readout = pg.locator("#loop-readout")
    expect(readout).to_have_attribute("role", "status")

    def hover_all():
        box = chart.bounding_box()
        got = []
        for f in (0.05, 0.3, 0.55, 0.8, 0.99):
            pg.mouse.move(box["x"] + f * box["width"], box["y"] + box["height"] * 0.5)
            expect(readout).to_contain_text("iteration", timeout=10_000)
            i, v = int(readout.get_attribute("data-iteration")), float(readout.get_attribute("data-value"))
            assert abs(v - oracle[i]) <= 2e-3 * max(1.0, abs(oracle[i])), (i, v, oracle[i])
            assert re.search(rf"iteration {i}: loss \S+", readout.text_content()), readout.text_content()
            got.append(i)
        assert got == sorted(got) and got[-1] > got[0] + 1000, got  # left to right across the 2,000 iterations
        return box

    small = hover_all()
    # by keyboard: the focused chart's End reads the last iteration
    chart.focus()
    pg.keyboard.press("End")
    expect(readout).to_have_attribute("data-iteration", "1999")
    assert abs(float(readout.get_attribute("data-value")) - oracle[1999]) <= 2e-3 * max(1.0, oracle[1999])
    grow = pg.get_by_role("button", name="Enlarge chart")
    grow.click()
    expect(grow).to_have_attribute("aria-pressed", "true")
    big = hover_all()
    assert big["width"] >= 1.8 * small["width"] and big["height"] >= 1.8 * small["height"], (small, big)
    shoot(pg, "lecture-loss-chart-enlarged")


def test_embed_400x300_narration_whole_or_scrollable(screen):
    pg = screen("/", 1280, 720)
    code = code_of(pg, "mlp-training-step")
    frag = pg.evaluate("""async (code) => (await import('/static/js/wire/url-state.js')).encodeState({code, seed: 0})""", code)
    pg.set_viewport_size({"width": 400, "height": 300})
    pg.goto(pg.url.split("#")[0].rstrip("/") + f"/embed#{frag}")
    expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=60_000)
    total = int(pg.get_attribute("#graph", "data-steps"))
    pg.locator("#graph svg").first.focus()
    scrolled = 0
    for k in range(1, total + 1):
        pg.keyboard.press("ArrowRight")
        expect(pg.locator("#graph")).to_have_attribute("data-step", str(k))
        pg.wait_for_function("() => document.getElementById('graph').dataset.measured === document.getElementById('graph').dataset.step")
        r = pg.evaluate("""() => { const n = document.getElementById('narration'), c = n.closest('.caption'), cs = getComputedStyle(n);
          const nb = n.getBoundingClientRect(), cb = c.getBoundingClientRect();
          return {sh: n.scrollHeight, ch: n.clientHeight, line: parseFloat(cs.lineHeight), font: parseFloat(cs.fontSize), tab: n.tabIndex,
                  overflow: cs.overflowY, inside: nb.top >= cb.top - 0.5 && nb.bottom <= cb.bottom + 0.5}; }""")
        assert r["inside"], f"step {k}: the narration box is cut by the caption {r}"
        assert r["font"] >= 11, r
        if r["sh"] <= r["ch"] + 1:
            continue  # whole
        # scrolls: by keyboard too, and its box shows whole lines (no line cut in half)
        scrolled += 1
        assert r["tab"] == 0 and r["overflow"] in ("auto", "scroll"), f"step {k}: {r}"
        lines = r["ch"] / r["line"]
        assert abs(lines - round(lines)) < 0.08 and round(lines) >= 2, f"step {k}: {lines:.2f} lines visible {r}"
        pg.locator("#narration").focus()
        for _ in range(12):  # ↓ scrolls the focused narration (→ would step the timeline)
            pg.keyboard.press("ArrowDown")
        pg.wait_for_function("() => { const n = document.getElementById('narration'); return n.scrollTop + n.clientHeight >= n.scrollHeight - 1; }")
        pg.locator("#graph svg").first.focus()
    assert total > 10
    shoot(pg, "lecture-embed-400x300")



def test_grad_rows_name_their_tensor(screen):
    pg = screen("/", 1400, 900)
    trace = fetch_trace(pg, code_of(pg, "basic-mul"))
    total = int(pg.get_attribute("#graph", "data-steps"))
    pg.locator("#graph svg").first.focus()
    seen = set()
    for k in range(1, total + 1):
        pg.keyboard.press("ArrowRight")
        expect(pg.locator("#graph")).to_have_attribute("data-step", str(k))
        for row in pg.eval_on_selector_all("#graph g.node.tensor", """els => els.filter(e => e.querySelector('.gradrow.flow'))
            .map(e => [e.querySelector('text.name').textContent, e.querySelector('.gradrow .lbl').textContent])"""):
            name, label = row
            assert label == f"dL/d{name}", row
            seen.add(name)
    assert {"c", "d"} <= seen, seen  # the intermediates c = a * b and d = c ** 2 while their gradients flow in
    assert {t["name"] for t in trace["tensors"] if t.get("name")} >= seen


def test_presenter_card_on_a_real_model_never_covers_the_active_node(screen):
    """The MLP training step (nn.Linear boxes are wide) at 1024×768 presenter with the code hidden: on every backward
    step the card leaves the active node whole, and its inputs and outputs too on nearly every step (a 4×3 grid
    above and below a node can be taller than the pane: then the card covers as little of them as it can)."""
    pg = screen("/", 1024, 768)
    n = int(pg.get_attribute("#graph", "data-loads"))
    pg.select_option("#gallery", "mlp-training-step")
    expect(pg.locator("#graph")).to_have_attribute("data-loads", str(n + 1), timeout=60_000)
    # the module overview opens at block level (the active node hidden in a closed block): open every box, the nodes drawn
    pg.get_by_role("button", name="Collapse modules").click()
    pg.wait_for_function("() => !window.gradtrace.app.collapsed.size && document.querySelectorAll('#graph g.node[data-node-id]').length > 10")
    pg.get_by_role("button", name="Presenter mode").click()
    pg.get_by_role("button", name="Hide code").click()
    total = int(pg.get_attribute("#graph", "data-steps"))
    pg.locator("#graph svg").first.focus()
    shown, clear = 0, 0
    for k in range(1, total + 1):
        pg.keyboard.press("ArrowRight")
        settled(pg, k)
        card = pg.locator("#chain-card")
        if not card.is_visible():
            continue
        shown += 1
        geo, box = pg.evaluate(NEIGHBOURS), card.bounding_box()
        assert not overlap(box, geo["active"]), (k, box, geo["active"])
        clear += not any(overlap(box, n) for n in geo["near"])
    assert shown >= 15 and clear >= 0.9 * shown, (shown, clear)
