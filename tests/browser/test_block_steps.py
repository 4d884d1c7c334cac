"""Backward steps at block level on five real models (CNN, LSTM, GPT-style transformer, VAE, GAN step): while the node
that runs is inside a closed block, #narration tells the block's story — the gradient entering it through an output,
node i of n of its engine order, the gradient leaving through its inputs — and those numbers are torch's (per-call
module hooks, tests/browser/block_oracle.py); Shift+→ steps to where the gradient leaves the block; opened, the same
step is told at node level. And at 1024×768 in presenter mode, with the code shown, an optimizer's update card covers
no drawn block or node. One page per screen is shared by every model; each model runs a few steps."""
import re

import pytest
from playwright.sync_api import expect

from .block_oracle import agrees, claims, module_calls
from .helpers import model_trace_text, shoot

pytestmark = pytest.mark.browser
NAMES = ["cnn", "lstm_lm", "gpt", "vae", "gan"]
_calls: dict = {}

# Every backward run of a closed block, from the first node of its engine order: where it starts and ends.
RUNS = """async () => {
  const B = await import('/static/js/model/blocks.js');
  const { app } = window.gradtrace, tl = app.tl, g = app.graph, closed = app.collapsed, out = [];
  for (let k = 1; k <= tl.total; k++) {
    const e = tl.entries[k - 1];
    if (e.kind !== 'backward') continue;
    const s = B.shownBlock(g, closed, `n:${tl.trace.backward[e.pass].steps[e.index].node}`);
    if (!s) continue;
    const span = B.blockSpan(tl, e.pass, s.block);
    if (span[0] !== e.index) continue;
    const last = tl.entries.findIndex((x) => x.kind === 'backward' && x.pass === e.pass && x.index === span[span.length - 1]) + 1;
    out.push({ k, last, n: span.length, block: s.block, box: s.box, folded: !!s.fold, path: g.groups.get(s.block).path,
      leaves: B.leavingAt(tl, e.pass, s.block).filter((x) => !x.param).length });
  }
  return out;
}"""

# The card's box and every drawn node or closed block it overlaps (in the graph pane; open blocks are frames around nodes).
COVERED = """() => {
  const card = document.getElementById('chain-card');
  if (!card || card.hidden) return null;
  const box = (el) => el.getBoundingClientRect();
  const pane = box(document.getElementById('graph')), c = box(card), hit = [];
  for (const el of document.querySelectorAll('#graph g.node, #graph g.group.collapsed')) {
    const b = box(el);
    if (b.width < 1 || b.height < 1 || el.closest('[display="none"]')) continue;
    if (b.right <= pane.left || b.left >= pane.right || b.bottom <= pane.top || b.top >= pane.bottom) continue;
    if (c.left < b.right && b.left < c.right && c.top < b.bottom && b.top < c.bottom) hit.push(el.dataset.key || el.dataset.group);
  }
  return { hit, place: card.dataset.place, update: card.classList.contains('update-card') };
}"""


def load(pg, name: str) -> str:
    text, code = model_trace_text(pg, name)
    if name not in _calls:
        _calls[name] = module_calls(code)
    pg.evaluate("async ([t, c]) => { await window.gradtrace.load(JSON.parse(t), c); window.gradtrace.editor.setCode(c); }", [text, code])
    measured(pg)
    return code


def measured(pg, k: int | None = None) -> None:
    if k is not None:
        expect(pg.locator("#graph")).to_have_attribute("data-step", str(k))
    pg.wait_for_function("() => document.getElementById('graph').dataset.measured === document.getElementById('graph').dataset.step")


def seek(pg, k: int) -> None:
    pg.evaluate("(k) => window.gradtrace.player.seek(k)", k)
    measured(pg, k)


def caption(pg) -> tuple[str, str]:
    return pg.text_content("#narration-title"), pg.text_content("#narration")


@pytest.fixture(scope="module")
def screens(browser, base_url):
    pages = {}
    for key, (w, h) in {"laptop": (1400, 900), "presenter": (1024, 768)}.items():
        pg = browser.new_context(viewport={"width": w, "height": h}, color_scheme="light").new_page()
        pg.problems = []
        pg.on("pageerror", lambda e, pg=pg: pg.problems.append(str(e)))
        pg.goto(base_url + "/")
        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        if key == "presenter":
            pg.get_by_role("button", name="Presenter mode").click()
        pages[key] = pg
    yield pages
    for pg in pages.values():
        assert not pg.problems, pg.problems
        pg.context.close()


def torch_side(name: str, path: str, call: int) -> dict:
    calls = _calls[name]
    assert (path, call) in calls, f"{name}: torch made no call {call} of {path}"
    return calls[(path, call)]


@pytest.mark.parametrize("name", NAMES)
def test_backward_at_block_level_tells_torchs_numbers(screens, name):
    pg = screens["laptop"]
    load(pg, name)
    runs = pg.evaluate(RUNS)
    assert runs, f"{name}: no backward step runs inside a closed block at the overview level"
    # a block that hands a gradient on through its inputs, drawn as itself (not inside a fold)
    run = next((r for r in runs if r["leaves"] and not r["folded"]), None) or next(r for r in runs if not r["folded"])
    seek(pg, run["k"])
    title, text = caption(pg)
    assert title.endswith(f"· block {run['path']} · 1/{run['n']}"), title
    expect(pg.locator(f'#graph .group.collapsed[data-group="{run["box"]}"]')).to_have_class(re.compile(r"\bactive\b"))
    enter = claims(text)["enter"]
    assert enter and enter[0] == run["path"], text
    side = torch_side(name, enter[0], enter[1])
    for v in enter[2]:
        assert any(agrees(v, t) for t in side["grad_out"] if t is not None), (name, v, text)
    assert f"Inside it the engine runs node 1 of {run['n']}:" in text, text
    # Shift+→: to the step where the gradient leaves the block (its last node); data-step is that step
    pg.locator("#graph svg").first.focus()
    pg.keyboard.press("Shift+ArrowRight")
    measured(pg, run["last"])
    title, text = caption(pg)
    assert title.endswith(f"· {run['n']}/{run['n']}"), title
    said = claims(text)
    if run["leaves"]:
        path, call, values = said["leave"]
        assert path == run["path"] and values, text
        for v in values:
            assert any(agrees(v, t) for t in torch_side(name, path, call)["grad_in"] if t is not None), (name, v, text)
    else:
        assert said["none_leave"], text
        path, call, _ = said["none_leave"]
        assert all(t is None for t in torch_side(name, path, call)["grad_in"]), text
    # Shift+←: back to just before the block's first node; the button does what Shift+→ does
    pg.keyboard.press("Shift+ArrowLeft")
    measured(pg, run["k"] - 1)
    seek(pg, run["k"])
    pg.get_by_role("button", name="Step over block").click()
    measured(pg, run["last"])
    # opened in place (a click on the box), the same step is told at node level, and the step has not moved
    seek(pg, run["last"])
    pg.locator(f'#graph .group.collapsed[data-group="{run["box"]}"]').first.focus()  # the box may be out of view: Enter opens it
    pg.keyboard.press("Enter")
    expect(pg.locator(f'#graph .group[data-group="{run["box"]}"]:not(.collapsed)').first).to_be_attached()
    measured(pg, run["last"])
    title, text = caption(pg)
    if " · block " not in title:  # unless a block inside it is still closed and runs this node
        assert title.startswith("Backward pass") and "Inside it the engine runs" not in text, (title, text)
        assert re.search(r"receives|AccumulateGrad", text), text


def test_gpt_block_mid_backward_opened_and_folded(screens):
    """A GPT block mid-backward at block level, the same block opened (screenshots), and the folded h.1 told as itself."""
    pg = screens["laptop"]
    load(pg, "gpt")
    runs = pg.evaluate(RUNS)
    h1 = next(r for r in runs if r["path"] == "model.h.1")
    assert h1["folded"], "h.1 is drawn inside the folded 'Block ×1'"
    seek(pg, h1["k"])
    title, text = caption(pg)
    assert 'block model.h.1 (Block, folded into "Block ×1")' in text and title.endswith(f"· block model.h.1 · 1/{h1['n']}"), text
    expect(pg.locator(f'#graph .group.collapsed.fold[data-group="{h1["box"]}"]')).to_have_class(re.compile(r"\bactive\b"))
    h0 = next(r for r in runs if r["path"] == "model.h.0")
    mid = h0["k"] + h0["n"] // 2
    seek(pg, mid)
    title, text = caption(pg)
    assert title.endswith(f"· block model.h.0 · {h0['n'] // 2 + 1}/{h0['n']}") and "Inside it the engine runs node" in text, (title, text)
    shoot(pg, "block-gpt-h0-mid-backward")
    pg.locator(f'#graph .group.collapsed[data-group="{h0["box"]}"]').first.focus()
    pg.keyboard.press("Enter")
    expect(pg.locator(f'#graph .group[data-group="{h0["box"]}"]:not(.collapsed)').first).to_be_attached()
    measured(pg, mid)
    # h.0 open: the step is told at the level of the block inside it that runs it (attn), then, opened too, at node level
    assert " · block model.h.0 · " not in caption(pg)[0] and " · block model.h.0." in caption(pg)[0], caption(pg)
    for _ in range(3):
        inner = pg.locator("#graph .group.collapsed.active")
        if not inner.count():
            break
        key = inner.first.get_attribute("data-group")
        inner.first.focus()
        pg.keyboard.press("Enter")
        expect(pg.locator(f'#graph .group[data-group="{key}"]:not(.collapsed)').first).to_be_attached()
        measured(pg, mid)
    title, text = caption(pg)
    assert title.startswith("Backward pass 1/1 · ") and " · block " not in title and "receives" in text, (title, text)
    expect(pg.locator("#graph g.node.active[data-node-id]")).to_have_count(1)
    pg.evaluate("() => window.gradtrace.view.focus(document.querySelector('#graph g.node.active').dataset.key, 0, 1.3)")
    measured(pg, mid)
    shoot(pg, "block-gpt-h0-opened")


@pytest.mark.parametrize("name", NAMES)
def test_update_card_covers_no_block_or_node_at_1024_presenter(screens, name):
    """At an optimizer's update steps, 1024×768 presenter mode with the code shown: the card sits where it covers no drawn
    node and no closed block (the graph panned, the card narrower or shorter and scrolling, as it takes)."""
    pg = screens["presenter"]
    load(pg, name)
    assert pg.locator("#editor").is_visible(), "the code is shown"
    ks = pg.evaluate("() => { const tl = window.gradtrace.app.tl; return tl.entries.map((e, i) => [e, i + 1])"
                     ".filter(([e]) => e.kind === 'forward' && tl.trace.forward[e.index].optim).map(([, k]) => k); }")
    assert ks, f"{name}: no optimizer update step"
    for k in sorted({ks[0], ks[1], ks[-1]}):
        seek(pg, k)
        expect(pg.locator("#chain-card.update-card")).to_be_visible()
        # the card is placed one frame after the step, and a pan that makes room for it takes 300 ms: poll until settled
        pg.wait_for_function(f"() => {{ const r = ({COVERED})(); return r && r.update && r.hit.length === 0; }}", timeout=5_000)
        if name == "gpt" and k == ks[0]:
            shoot(pg, "block-presenter-1024x768-update-card")
