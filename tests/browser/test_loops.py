"""Training loops on the page, as a student sees them: the published polynomial tutorial typed in unchanged,
its iteration selector, loss chart and the gradient-descent update narrated with numbers PyTorch agrees with;
the "Jump to backward" control by mouse and keyboard."""
import math
import re
from pathlib import Path

import pytest
import torch
from playwright.sync_api import expect

from .helpers import run_example, step, type_program

# https://docs.pytorch.org/tutorials/beginner/examples_autograd/polynomial_autograd.html ("Learning PyTorch with
# Examples": PyTorch: Tensors and autograd), unchanged: the corpus copy (tests/corpus/, with its source header).
POLYNOMIAL = (Path(__file__).resolve().parents[1] / "corpus" / "tut_polynomial_autograd.py").read_text(encoding="utf-8")
FIRST_LINE = next(i for i, line in enumerate(POLYNOMIAL.splitlines(), 1) if "y_pred = a + b * x" in line)


def plain_torch(last: int = 1999) -> dict:
    """The oracle: the tutorial in plain torch (seed 0, as the page runs it), with the numbers of iteration `last`."""
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    a, b, c, d = (torch.randn((), requires_grad=True) for _ in range(4))
    out = {"loss": []}
    for t in range(2000):
        loss = (a + b * x + c * x ** 2 + d * x ** 3 - y).pow(2).sum()
        out["loss"].append(loss.item())
        loss.backward()
        with torch.no_grad():
            if t == last:
                out.update(before=a.item(), grad=a.grad.item())
            for p in (a, b, c, d):
                p -= 1e-6 * p.grad
                p.grad = None
            if t == last:
                out["after"] = a.item()
    return out


def close(text: str, want: float, rel: float = 2e-3) -> bool:
    return abs(float(text) - want) <= rel * max(1.0, abs(want))


@pytest.fixture(scope="module")
def oracle():
    return plain_torch()


def test_polynomial_tutorial_loop_view(page, oracle):
    page.set_default_timeout(60_000)
    type_program(page, POLYNOMIAL)
    card = page.get_by_role("region", name="Training loop")
    expect(card).to_be_visible()
    expect(card).to_contain_text("2,000 iterations")
    select = page.get_by_label("Iteration", exact=True)
    options = select.locator("option").all_text_contents()
    assert options == ["iteration 0", "iteration 1", "iteration 2", "iteration 1999"]

    # iterations are laid out in order, one open and the others folded into labelled boxes
    boxes = page.locator('#graph .group[data-group^="g:it:"]')
    expect(boxes.first).to_be_attached()
    labels = [t.strip() for t in page.locator('#graph .group[data-group^="g:it:"] text').all_text_contents()]
    assert any(t.startswith("▾ iteration 0") for t in labels), labels
    assert any(t.startswith("▸ iteration 1999") for t in labels), labels

    # the chart marks the four recorded iterations; their losses are torch's
    marks = page.locator("svg.loop-chart circle.recorded")
    expect(marks).to_have_count(4)
    for i, want in [(0, oracle["loss"][0]), (1999, oracle["loss"][1999])]:
        label = page.locator(f'svg.loop-chart circle.recorded[data-iteration="{i}"]').get_attribute("aria-label")
        got = re.search(r"loss (\S+) —", label).group(1)
        assert close(got, want), (label, want)

    # clicking the point of iteration 1999 shows that iteration: its first step, its box open, the others folded
    page.locator('svg.loop-chart circle.recorded[data-iteration="1999"]').click()
    expect(page.locator("#loop")).to_have_attribute("data-iteration", "1999")
    expect(select).to_have_value("3")
    expect(page.locator('#graph .group[data-group="g:it:L1:1999"]:not(.collapsed)')).to_have_count(1)
    expect(page.locator('#graph .group.collapsed[data-group="g:it:L1:0"]')).to_have_count(1)
    k0 = step(page)
    assert f"Line {FIRST_LINE}" in page.locator("#narration").text_content()

    # step on to the hand-written update of a: narrated as gradient descent with torch's numbers
    for _ in range(40):
        page.get_by_role("button", name="Step forward").click()
        if "parameter update" in page.locator("#narration-title").text_content():
            break
    text = page.locator("#narration").text_content()
    m = re.search(r"a ← a − lr·a\.grad with learning_rate = 1e-6: a = (\S+) − 1e-6 × \(?([^)\s]+)\)? = (\S+)\.", text)
    assert m, text
    assert close(m.group(1), oracle["before"]) and close(m.group(2), oracle["grad"]) and close(m.group(3), oracle["after"]), (text, oracle)
    assert step(page) > k0
    expect(page.locator("#loop")).to_have_attribute("data-iteration", "1999")

    # the selector goes back to iteration 0 by keyboard
    select.focus()
    page.keyboard.press("Home")
    expect(page.locator("#loop")).to_have_attribute("data-iteration", "0")


def test_jump_to_backward_button_and_key(page):
    trace = run_example(page, "retain-graph")
    jump = page.get_by_role("button", name="Jump to backward")
    expect(jump).to_be_enabled()
    assert step(page) == 0
    n_forward = len(trace["forward"])
    jump.click()
    first = step(page)
    assert first >= 1
    assert "Backward pass 1/" in page.locator("#narration-title").text_content()
    # the key B jumps to the next pass, and from the last pass back to the first
    page.keyboard.press("b")
    second = step(page)
    assert second > first and "Backward pass 2/" in page.locator("#narration-title").text_content()
    page.keyboard.press("b")
    assert step(page) == first
    assert n_forward >= 1
    # focused and pressed with Enter, like any button
    page.get_by_role("button", name="Reset").click()
    jump.focus()
    page.keyboard.press("Enter")
    assert step(page) == first


def test_nested_minibatch_loop_of_d2l_on_the_page(page):
    """D2L 3.2 unchanged: 3 epochs of 100 minibatches; each epoch's minibatch loop folds inside its epoch."""
    page.set_default_timeout(60_000)
    code = (Path(__file__).resolve().parents[1] / "corpus" / "d2l_linear_regression_scratch.py").read_text(encoding="utf-8")
    trace = type_program(page, code)
    epoch_line = next(i for i, line in enumerate(code.splitlines(), 1) if line.startswith("for epoch in"))
    card = page.get_by_role("region", name="Training loop")
    expect(card).to_contain_text(f"100 iterations in iteration 0 of the loop at line {epoch_line}")
    options = page.get_by_label("Iteration", exact=True).locator("option").all_text_contents()
    assert [o.split(" (")[0] for o in options] == [x for e in range(3) for x in
                                                  [f"iteration {e}"] + [f"iteration {e} › {i}" for i in (0, 1, 2, 99)]]
    inner = next(x for x in trace["loops"] if x.get("parent") and x["parent_index"] == 2)
    page.get_by_label("Iteration", exact=True).select_option(label=f"iteration 2 › 99 ({inner['id']})")
    expect(page.locator("#loop")).to_have_attribute("data-iteration", "99")
    expect(page.locator(f'#graph .group[data-group="g:it:{inner["id"]}:99"]:not(.collapsed)')).to_have_count(1)
    expect(page.locator(f'#graph .group[data-group="g:it:{inner["parent"]}:2"]:not(.collapsed)')).to_have_count(1)
    expect(page.locator(f'#graph .group.collapsed[data-group="g:it:{inner["id"]}:0"]')).to_have_count(1)
