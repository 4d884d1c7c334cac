"""Big graphs zoomed out: drawn on the overview canvas, their node elements made once in view at a readable scale."""
import pytest
from playwright.sync_api import expect

from gradtrace.tracer import trace as run_trace

from .helpers import wait_first_load

pytestmark = pytest.mark.browser

# Straight-line code, one line per 3 ops (the tracer folds no loop): ~1,000 tensors + autograd nodes.
CODE = ("import torch\nx0 = torch.randn(4)\nW = torch.randn(4, 4, requires_grad=True)\nb = torch.randn(4, requires_grad=True)\n"
        + "".join(f"x{i + 1} = torch.tanh(W @ x{i} + b)\n" for i in range(166)) + "x166.sum().backward()\n")

PAINTED = """() => { const c = document.querySelector('#graph canvas.overview'); if (c.hidden) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""

# A node whose box is well inside the pane, under the toolbar: its key and the screen point of its centre.
NODE_IN_VIEW = """() => { const g = window.gradtrace, t = g.view.transform, r = document.querySelector('#graph svg').getBoundingClientRect();
  for (const [key, d] of g.app.graph.nodes) { if (d.type !== 'op') continue; const p = g.view.nodeBox(key); if (!p) continue;
    const x = t.applyX(p.x), y = t.applyY(p.y);
    if (x > 80 && x < r.width - 80 && y > 80 && y < r.height - 40) return [key, r.left + x, r.top + y]; }
  return null; }"""


def show(page, trace):
    wait_first_load(page)
    page.evaluate("([t, c]) => window.gradtrace.load(t, c)", [trace, CODE])


def test_big_graph_overview_is_a_canvas_and_nodes_come_back_in_view(page):
    trace = run_trace(CODE, seed=0)
    assert trace["status"] == "ok"
    assert len(trace["tensors"]) + len(trace["nodes"]) > 900
    show(page, trace)
    canvas = page.locator("#graph canvas.overview")
    expect(canvas).to_be_visible()
    assert page.evaluate("window.gradtrace.view.transform.k") < 0.42  # the fitted overview: text unreadable
    assert page.locator("#graph [data-node-id], #graph [data-tensor-id]").count() == 0  # none made: the canvas draws them
    page.wait_for_function(f"() => ({PAINTED})() > 2000")

    # A click on a box of the canvas selects that node (details panel).
    key, x, y = page.evaluate(NODE_IN_VIEW)
    page.mouse.click(x, y)
    expect(page.locator("#panel")).to_be_visible()
    assert page.evaluate("window.gradtrace.app.selected") == key
    page.get_by_role("button", name="Close details").click()

    # Stepping into backward follows the current node at a readable scale: SVG elements, with their data, come back.
    page.evaluate("window.gradtrace.player.seek(window.gradtrace.app.tl.passRange[0].start + 2, 'step')")
    page.wait_for_function("() => window.gradtrace.view.transform.k >= 0.42")
    expect(canvas).to_be_hidden()
    expect(page.locator("#graph .node.op.active[data-node-id]")).to_have_count(1)
    active = page.get_attribute("#graph .node.op.active", "data-node-id")
    assert active in {n["id"] for n in trace["nodes"]}
    expect(page.locator("#graph .node.tensor[data-value]").first).to_be_attached()
    drawn = page.locator("#graph [data-node-id]").count()
    assert 0 < drawn < len(trace["nodes"]) / 4  # only what is near the view

    # Fit again: back to the canvas, the elements leave the DOM.
    page.get_by_role("button", name="Fit to screen").click()
    page.wait_for_function("() => window.gradtrace.view.transform.k < 0.42")
    expect(canvas).to_be_visible()
    expect(page.locator("#graph [data-node-id]")).to_have_count(0)
    page.wait_for_function(f"() => ({PAINTED})() > 2000")
