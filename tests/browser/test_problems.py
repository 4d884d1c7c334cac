"""Errors and warnings on the graph at the step that caused them: the node, the tensor, the line, in words."""
import re

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .helpers import type_program

pytestmark = pytest.mark.browser

INPLACE = "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x.exp()\ny += 1\ny.sum().backward()\n"
FREED = "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nL = (w * w).sum()\nL.backward()\nL.backward()\n"
NONLEAF = "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x * 2\ny.sum().backward()\nprint(y.grad)\n"


def by_name(trace, name):
    return next(t for t in trace["tensors"] if t["name"] == name)


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"problem-{name}.png"))


def test_inplace_error_marks_the_node_the_tensor_and_the_line(page):
    trace = type_program(page, INPLACE)
    cause = trace["error"]["cause"]
    page.keyboard.press("End")
    node = page.locator(f'#graph [data-node-id="{cause["node"]}"]')
    expect(node).to_have_class(re.compile(r"\bproblem\b"))  # ExpBackward0
    tensor = page.locator(f'#graph [data-tensor-id="{by_name(trace, "y")["id"]}"]')
    expect(tensor).to_contain_text("version 0 → 1 (line 4)")
    expect(node).to_contain_text("needs result at version 0")
    expect(page.locator('.cm-cause-line[data-line="4"]')).to_have_count(1)
    expect(page.locator("#narration")).to_contain_text("Why: ExpBackward0 (made on line 3: y = x.exp()) needs its saved result (y)")
    expect(page.locator("#narration")).to_contain_text("line 4 (y += 1) changed it in place")
    shot(page, "inplace")
    page.keyboard.press("Home")  # marks belong to their step only
    expect(page.locator("#graph .problem")).to_have_count(0)
    expect(page.locator(".cm-cause-line")).to_have_count(0)


def test_freed_saved_tensors_error_points_at_the_first_backward(page):
    trace = type_program(page, FREED)
    cause = trace["error"]["cause"]
    page.keyboard.press("End")
    expect(page.locator(f'#graph [data-node-id="{cause["node"]}"]')).to_contain_text("saved tensors already freed")
    expect(page.locator(f'#graph [data-tensor-id="{by_name(trace, "w")["id"]}"]')).to_contain_text("freed by backward on line 4")
    expect(page.locator('.cm-cause-line[data-line="4"]')).to_have_count(1)
    expect(page.locator("#narration")).to_contain_text("the backward call on line 4 (L.backward()) already freed them")
    shot(page, "freed")


def test_non_leaf_grad_warning_shows_at_its_step_on_the_tensor(page):
    trace = type_program(page, NONLEAF)
    assert trace["warnings"][0]["tensor"] == by_name(trace, "y")["id"]
    page.keyboard.press("End")
    y = page.locator(f'#graph [data-tensor-id="{by_name(trace, "y")["id"]}"]')
    expect(y).to_contain_text(".grad is None: not a leaf")
    expect(page.locator("#narration")).to_contain_text("⚠ Warning (line 5: print(y.grad)): y.grad is read, but y is not a leaf")
    expect(page.locator('.cm-cause-line[data-line="5"]')).to_have_count(1)
    shot(page, "nonleaf-grad")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#graph .warned")).to_have_count(0)


CUT = "import torch\nx = torch.ones(2, requires_grad=True)\nw = torch.ones(2, requires_grad=True)\ny = x.detach() * 2\nL = (y * w).sum()\nL.backward()\nprint(x.grad)\n"


def test_a_detach_cut_that_leaves_grad_none_is_marked_at_the_end_of_backward(page):
    trace = type_program(page, CUT)
    page.keyboard.press("End")
    x = page.locator(f'#graph [data-tensor-id="{by_name(trace, "x")["id"]}"]')
    expect(x).to_contain_text("✂ .grad None: detach() on line 4")
    expect(page.locator("#narration")).to_contain_text("x.grad stays None: x requires grad, but its use on line 4 went through detach()")
    expect(page.locator('.cm-cause-line[data-line="4"]')).to_have_count(1)
    shot(page, "detach-cut")
    page.keyboard.press("Home")
    expect(page.locator("#graph .warned")).to_have_count(0)


SHAPE = "import torch\nW = torch.randn(3, 2, requires_grad=True)\nx = torch.randn(3)\ny = W @ x\n"
LEAF = "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nw += 1\n"


def test_shape_mismatch_is_explained_on_the_graph(page):
    trace = type_program(page, SHAPE)
    page.keyboard.press("End")
    expect(page.locator(f'#graph [data-tensor-id="{by_name(trace, "W")["id"]}"]')).to_contain_text("✖ shape [3, 2]")
    expect(page.locator(f'#graph [data-tensor-id="{by_name(trace, "x")["id"]}"]')).to_contain_text("✖ shape [3]")
    expect(page.locator("#narration")).to_contain_text("Why: on line 4 (y = W @ x), W is [3, 2], x is [3]")
    expect(page.locator("#narration")).to_contain_text("W's last size (2) must equal x's length (3)")
    shot(page, "shape-mismatch")


def test_in_place_change_of_a_leaf_is_explained_on_the_graph(page):
    trace = type_program(page, LEAF)
    page.keyboard.press("End")
    expect(page.locator(f'#graph [data-tensor-id="{by_name(trace, "w")["id"]}"]')).to_contain_text("✖ in-place change of a leaf (line 3)")
    expect(page.locator("#narration")).to_contain_text("Why: w is a leaf that requires grad")
    expect(page.locator("#narration")).to_contain_text("with torch.no_grad():")
    shot(page, "leaf-inplace")


def test_a_syntax_error_is_headed_as_an_error(page):
    type_program(page, "import torch\nx = torch.tensor([1., 2.]\n")
    expect(page.locator("#narration-title")).to_contain_text("Syntax error")
    expect(page.locator("#narration-title")).not_to_contain_text("Ready")
    expect(page.locator("#narration")).to_contain_text("SyntaxError on line 2")
    shot(page, "syntax-error")
