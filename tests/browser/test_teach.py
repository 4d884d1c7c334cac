"""Teaching on the graph: the chain-rule card, gradients waiting on edges, the quiz (page, /embed, standalone file)."""
import re

import pytest
from playwright.sync_api import expect

from gradtrace.export import standalone_html

from .conftest import ARTIFACTS as ARTIFACTS_DIR
from .helpers import code_of, fetch_trace, run_example, steps, type_program

pytestmark = pytest.mark.browser


def first_backward_op_step(trace: dict) -> int:
    """Timeline step of the first backward node (the first pass runs after `after_forward` forward steps)."""
    first = trace["backward"][0]
    return (first.get("after_forward") if first.get("after_forward") is not None else len(trace["forward"])) + 1


def go_to(page, k: int) -> None:
    page.locator("#graph svg").first.focus()
    page.keyboard.press("Home")
    for _ in range(k):
        page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#graph")).to_have_attribute("data-step", str(k))


def shoot(page, name: str) -> None:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / f"{name}.png"))


def test_chain_rule_card_beside_the_active_node(page):
    trace = run_example(page, "basic-mul")
    card = page.locator("#chain-card")
    expect(card).to_be_hidden()
    go_to(page, first_backward_op_step(trace))  # SumBackward0 runs first
    expect(card).to_be_visible()
    expect(card).to_contain_text("SumBackward0")
    page.get_by_role("button", name="Step forward").click()  # PowBackward0
    page.get_by_role("button", name="Step forward").click()  # MulBackward0
    expect(card).to_contain_text("MulBackward0")
    expect(card).to_contain_text("∂c/∂a = b")
    expect(card).to_contain_text("✓ formula on the saved values")
    text = card.inner_text()
    assert re.search(r"dL/da = b ⊙ dL/dc = \[[-\d., e]+\]", text), text
    # the card never covers the active node (placed in the frame after the step)
    page.wait_for_function("() => document.getElementById('graph').dataset.measured === document.getElementById('graph').dataset.step")
    active = page.locator("#graph g.active[data-node-id]").first.bounding_box()
    box = card.bounding_box()
    overlap = not (box["x"] >= active["x"] + active["width"] or box["x"] + box["width"] <= active["x"]
                   or box["y"] >= active["y"] + active["height"] or box["y"] + box["height"] <= active["y"])
    assert not overlap, (box, active)
    # gradients that arrived stay on their edges until consumed
    assert page.locator("#graph .grad-wait").count() >= 1
    shoot(page, "teach-card-basic-mul")


def test_fan_in_sum_shows_as_it_forms(page):
    type_program(page, "import torch\nx = torch.tensor([1., 2., 3.], requires_grad=True)\ny = x * x + x\nL = y.sum()\nL.backward()\n")
    total = steps(page)
    seen_fan = False
    page.locator("#graph svg").first.focus()
    for _ in range(total):
        page.get_by_role("button", name="Step forward").click()
        if page.locator("#graph .grad-wait.fan").count():
            seen_fan = True
            assert " + " in page.locator("#graph .grad-wait.fan").first.text_content()
            break
    assert seen_fan
    shoot(page, "teach-fan-in")


def answer(page, correct: bool) -> None:
    box = page.locator("#quiz")
    expect(box).to_be_visible()
    box.locator(f'.quiz-choice[data-correct="{"true" if correct else "false"}"]').first.click()
    expect(box.locator("#quiz-feedback")).to_contain_text("✓ Right." if correct else "✗ Not quite")


def play_quiz(page, trace: dict) -> None:
    """Turn the quiz on, answer the first question right and the second wrong; the score says 1 / 2."""
    page.get_by_role("button", name="Quiz").click()
    expect(page.locator("#quiz-score")).to_have_text("Score 0 / 0")
    go_to(page, first_backward_op_step(trace))
    expect(page.locator("#chain-card")).to_be_hidden()  # predict first
    expect(page.locator("#narration")).to_contain_text("Predict first")
    answer(page, True)
    expect(page.locator("#chain-card")).to_be_visible()  # then reveal
    expect(page.locator("#narration")).not_to_contain_text("Predict first")
    page.get_by_role("button", name="Step forward").click()
    answer(page, False)
    expect(page.locator("#quiz-score")).to_have_text("Score 1 / 2")


def test_quiz_never_shows_the_answer_and_holds_the_step(page):
    """Stepping onto a question draws no part of its answer (not even on the travelling dot), and → stays on it."""
    trace = run_example(page, "basic-mul")
    mul = first_backward_op_step(trace) + 2  # SumBackward0, PowBackward0, then MulBackward0
    go_to(page, mul - 1)
    page.get_by_role("button", name="Quiz").click()
    answer(page, True)  # PowBackward0's question, so the next one is MulBackward0's
    # every text the graph pane draws from now on (outside the quiz box), including ones removed a moment later
    page.evaluate("""() => {
        window.__drawn = [];
        const graph = document.getElementById('graph');
        new MutationObserver((ms) => { for (const m of ms) for (const n of [...m.addedNodes, m.target]) {
            if (n.closest?.('#quiz') || n.parentElement?.closest('#quiz')) continue;
            if (n.textContent) window.__drawn.push(n.textContent);
        } }).observe(graph, { childList: true, subtree: true, characterData: true });
    }""")
    page.locator("#graph svg").first.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#graph")).to_have_attribute("data-step", str(mul))
    expect(page.locator("#quiz .quiz-choice")).not_to_have_count(0)
    right = page.locator('#quiz .quiz-choice[data-correct="true"]').text_content()
    page.wait_for_timeout(1500)  # the step's animation has run its course
    drawn = page.evaluate("() => window.__drawn")
    assert not [t for t in drawn if right in t], (right, [t for t in drawn if right in t][:3])
    assert right not in page.locator("#graph svg").first.text_content()
    # → on an unanswered question does not skip it: it points at the question instead
    page.locator("#graph svg").first.focus()
    page.keyboard.press("ArrowRight")
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#quiz .quiz-hold")).to_contain_text("Answer first")
    assert page.get_attribute("#graph", "data-step") == str(mul)
    answer(page, True)
    page.get_by_role("button", name="Step forward").click()
    expect(page.locator("#graph")).to_have_attribute("data-step", str(mul + 1))


def test_quiz_in_the_page_and_in_the_link(page):
    trace = run_example(page, "basic-mul")
    play_quiz(page, trace)
    shoot(page, "teach-quiz-page")
    page.wait_for_timeout(600)  # the fragment is written at most every 250 ms
    state = page.evaluate("""async () => (await import('/static/js/wire/url-state.js')).decodeState(location.hash)""")
    assert state["quiz"] is True, state


def test_quiz_in_embed(page):
    code = code_of(page, "basic-mul")
    trace = fetch_trace(page, code)
    frag = page.evaluate("""async (code) => {
        const m = await import('/static/js/wire/url-state.js');
        return m.encodeState({code, seed: 0, quiz: true});
    }""", code)
    page.set_viewport_size({"width": 800, "height": 560})
    page.goto(page.url.split("#")[0].rsplit("/", 1)[0] + f"/embed#{frag}")
    expect(page.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
    expect(page.get_by_role("button", name="Quiz")).to_have_attribute("aria-pressed", "true")  # from the link
    page.get_by_role("button", name="Quiz").click()  # off, then on again through play_quiz
    play_quiz(page, trace)
    shoot(page, "teach-quiz-embed")


def test_quiz_in_standalone_file(page, tmp_path):
    code = code_of(page, "basic-mul")
    trace = fetch_trace(page, code)
    f = tmp_path / "basic-mul.html"
    f.write_text(standalone_html(trace, code, title="basic-mul"), encoding="utf-8")
    page.goto(f.as_uri())
    expect(page.locator("#graph")).not_to_have_attribute("data-steps", "0", timeout=30_000)
    play_quiz(page, trace)
    shoot(page, "teach-quiz-standalone")


def test_finite_difference_action_on_a_leaf(page):
    trace = run_example(page, "basic-mul")
    page.get_by_role("button", name="Step forward").click()
    page.locator(f'#graph [data-tensor-id="{trace["variables"]["a"]}"]').first.click()
    expect(page.locator("#panel")).to_be_visible()
    page.locator("#fd-check").click()
    verdict = page.locator(".fd-verdict")
    expect(verdict).to_contain_text("They agree", timeout=30_000)
    cells = page.locator(".fd-table tbody tr").all()
    assert len(cells) == 3
    fd = [float(r.locator("td").nth(1).inner_text()) for r in cells]
    grad = [float(r.locator("td").nth(2).inner_text()) for r in cells]
    assert grad == [8.0, 64.0, 216.0]  # a.grad = 2·c·b from plain torch: b = [2, 4, 6], c = a·b
    assert all(abs(x - g) <= 2e-2 * max(1, abs(g)) for x, g in zip(fd, grad)), (fd, grad)
    page.get_by_role("button", name="Step forward").click()  # the result survives a step
    expect(page.locator(".fd-verdict")).to_contain_text("They agree")
    shoot(page, "teach-finite-difference")


def test_numbers_not_glyphs_up_to_16(page):
    type_program(page, "import torch\nv = torch.arange(8.)\nM = torch.arange(16.).reshape(4, 4)\nB = torch.arange(20.).reshape(4, 5)\n"
                       "W = torch.ones(2, 3, requires_grad=True)\n(W * 2).sum().backward()\n")
    page.keyboard.press("End")
    def texts(tid):
        return page.locator(f'#graph g.node[data-tensor-id="{tid}"] .datarow text.val tspan').evaluate_all("els => els.map(e => e.textContent)")
    tr = fetch_trace(page, page.evaluate("() => window.gradtrace.app.code"))
    ids = tr["variables"]
    assert texts(ids["v"]) == ["[0, 1, 2, 3]", "[4, 5, 6, 7]"]
    assert texts(ids["M"]) == ["[0, 1, 2, 3]", "[4, 5, 6, 7]", "[8, 9, 10, 11]", "[12, 13, 14, 15]"]
    big = page.locator(f'#graph g.node[data-tensor-id="{ids["B"]}"]')
    assert big.locator(".glyph .cell").count() == 20  # a heatmap past 16 numbers …
    assert big.locator(".color-legend rect").count() >= 5  # … with its colour legend
    minmax = big.locator(".minmax").evaluate_all("els => els.map(e => e.textContent)")
    assert "max 19" in minmax and "min 0" in minmax, minmax
    shoot(page, "teach-numbers")


def in_view(page, selector: str, text: str = ""):
    """A drawn element wholly inside the graph pane (big graphs keep off-screen ones hidden or detached)."""
    key = page.evaluate("""([sel, text]) => {
        const pane = document.getElementById('graph').getBoundingClientRect();
        const ok = [...document.querySelectorAll('#graph ' + sel)].find((e) => {
            const r = e.getBoundingClientRect();
            return r.width && r.left >= pane.left && r.right <= pane.right && r.top >= pane.top + 50 && r.bottom <= pane.bottom
                && (!text || e.textContent.includes(text));
        });
        return ok ? ok.dataset.key : null;
    }""", [selector, text])
    assert key, f"no {selector} {text} in view"
    return page.locator(f'#graph g.node[data-key="{key}"]')


def test_hover_and_keyboard(page):
    trace = run_example(page, "mlp-training-step")
    # the example opens as its module overview (ops folded in closed blocks): open them to hover nodes
    page.get_by_role("button", name="Collapse modules").click()
    expect(page.locator("#modules")).to_have_attribute("aria-pressed", "false")
    go_to(page, first_backward_op_step(trace) + 1)
    page.wait_for_timeout(1200)  # let the step's animation and the follow pan finish
    active = page.locator("#graph g.node.active").first
    abox = active.bounding_box()
    tip = page.locator("#gt-tooltip")
    # hover a tensor: its values; the tooltip never covers the active node
    leaf = in_view(page, "g.node.tensor")
    leaf.hover(force=True)  # a node that just received a gradient keeps a pulsing class
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("value:")
    t = tip.bounding_box()
    assert t["x"] >= abox["x"] + abox["width"] or t["x"] + t["width"] <= abox["x"] or t["y"] >= abox["y"] + abox["height"] or t["y"] + t["height"] <= abox["y"]
    # hover an autograd node: its human description
    in_view(page, "g.node.op", "AddmmBackward0").hover(force=True)
    expect(tip).to_contain_text("nn.Linear: x @ Wᵀ + b")
    # Tab reaches nodes; Enter opens the details panel
    node = in_view(page, "g.node[tabindex='0']")
    node.focus()
    expect(tip).to_be_visible()
    assert node.text_content().strip() and node.get_attribute("aria-description")  # name from its text, help as description
    page.keyboard.press("Enter")
    expect(page.locator("#panel")).to_be_visible()
    shoot(page, "teach-hover-keyboard")
