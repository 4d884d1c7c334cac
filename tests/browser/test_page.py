"""The web page in headless Chromium: gallery runs, graph DOM vs the trace, timeline, narration, errors."""
import pytest
from playwright.sync_api import expect

from .helpers import (drawn_node_ids, drawn_tensor_ids, flat, run_example, shown_grad, step, step_to_end, steps,
                      type_program, wait_first_load)

pytestmark = pytest.mark.browser


def assert_graph_matches(page, trace):
    """Every trace node and tensor is drawn exactly once (tensors as a box or as their owner's .grad chip)."""
    assert drawn_node_ids(page) == {n["id"] for n in trace["nodes"]}
    assert drawn_tensor_ids(page) == {t["id"] for t in trace["tensors"]}
    assert page.locator("#graph [data-node-id]").count() == len(trace["nodes"])
    assert page.locator("#graph [data-tensor-id]").count() == len(trace["tensors"])
    total = len(trace["forward"]) + sum(len(p["steps"]) + bool(p.get("error")) for p in trace["backward"])  # a failed call is a step
    assert steps(page) == total


def assert_final_grads(page, trace):
    for t in trace["tensors"]:
        if t["grad"] is not None and t["grad"]["values"] is not None:
            got = shown_grad(page, t["id"])
            want = flat(t["grad"]["values"])
            got = got if isinstance(got, list) else [got]
            assert got == pytest.approx(want, rel=1e-6), t["name"]


def test_basic_mul_seed_001(page):
    trace = run_example(page, "basic-mul")
    assert_graph_matches(page, trace)
    assert step(page) == 0
    seen = step_to_end(page)
    assert len(seen) == steps(page) + 1
    assert all(a != b for a, b in zip(seen, seen[1:])), "narration must change at every step"
    assert any("MulBackward0 (c = a * b) receives dL/dc = [4, 16, 36] and sends dL/da = b ⊙ dL/dc = [8, 64, 216]" in s
               for s in seen)
    assert_final_grads(page, trace)
    a = next(t for t in trace["tensors"] if t["name"] == "a")
    expect(page.locator(f'[data-tensor-id="{a["id"]}"] .gradrow')).to_contain_text("[8, 64, 216]")


def test_apple_and_tangerine(page):
    trace = run_example(page, "apple-tangerine")
    assert_graph_matches(page, trace)
    seen = step_to_end(page)
    assert all(a != b for a, b in zip(seen, seen[1:]))
    assert_final_grads(page, trace)
    for name, grad in {"apple": "2.2", "num_apple": "110", "ctax": "650", "price": "1.1"}.items():
        t = next(t for t in trace["tensors"] if t["name"] == name)
        expect(page.locator(f'[data-tensor-id="{t["id"]}"] .gradrow')).to_contain_text(grad)


def test_custom_function(page):
    trace = run_example(page, "custom-function-ctx")
    assert_graph_matches(page, trace)
    assert page.locator("#graph .node.op.custom").count() >= 1
    step_to_end(page)
    assert_final_grads(page, trace)


def test_retain_graph_accumulates(page):
    trace = run_example(page, "retain-graph")
    assert len(trace["backward"]) == 2
    leaf = next(t for t in trace["tensors"] if t["is_leaf"] and t["requires_grad"] and t["grad"])
    grads, titles = {}, {}

    def read(k):
        grads[k] = shown_grad(page, leaf["id"])
        titles[k] = page.inner_text("#narration-title")

    seen = step_to_end(page, on_step=read)
    first_pass_end = max(k for k, t in titles.items() if t.lower().startswith("backward pass 1/"))
    after1, after2 = flat(grads[first_pass_end]), flat(grads[steps(page)])
    assert after2 == pytest.approx([2 * x for x in after1])
    assert_final_grads(page, trace)
    assert any("gradients accumulate" in s for s in seen)


def test_error_case_highlights_line_and_draws_partial_graph(page):
    trace = run_example(page, "detach-error")
    assert trace["status"] == "error" and trace["error"]["line"]
    line = trace["error"]["line"]
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error-message")).to_contain_text(trace["error"]["message"][:40])
    expect(page.locator(f'.cm-error-line[data-line="{line}"]')).to_have_count(1)
    assert page.get_attribute("#editor", "data-error-line") == str(line)
    assert_graph_matches(page, trace)
    assert step(page) == steps(page), "an error trace opens at its last step: the partial graph"
    assert page.locator("#graph .node.future").count() == 0
    expect(page.locator("#narration")).to_contain_text("The program stopped")


def test_step_line_is_highlighted_in_editor(page):
    run_example(page, "basic-mul")
    page.get_by_role("button", name="Step forward", exact=True).click()
    page.get_by_role("button", name="Step forward", exact=True).click()
    page.get_by_role("button", name="Step forward", exact=True).click()
    expect(page.locator(".cm-step-line")).to_have_count(1)
    expect(page.locator(".cm-step-line")).to_contain_text("c = a * b")


def test_controls_and_keyboard(page):
    run_example(page, "apple-tangerine")
    graph = page.locator("#graph")
    page.locator("#graph svg.graph-svg").click(position={"x": 5, "y": 300})
    page.keyboard.press("ArrowRight")
    expect(graph).to_have_attribute("data-step", "1")
    page.keyboard.press("PageDown")
    expect(graph).to_have_attribute("data-step", "2")
    page.keyboard.press("PageUp")
    expect(graph).to_have_attribute("data-step", "1")
    page.keyboard.press("ArrowLeft")
    expect(graph).to_have_attribute("data-step", "0")
    page.get_by_role("button", name="Play", exact=True).click()
    expect(graph).not_to_have_attribute("data-step", "0", timeout=5000)
    page.get_by_role("button", name="Pause", exact=True).click()
    k = step(page)
    page.wait_for_timeout(1500)
    assert step(page) == k, "Pause stops the timeline"
    page.keyboard.press("Space")
    expect(graph).not_to_have_attribute("data-step", str(k), timeout=5000)
    page.keyboard.press("Space")
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(graph).to_have_attribute("data-step", "0")
    page.get_by_role("button", name="Step forward", exact=True).click()
    page.get_by_role("button", name="Step forward", exact=True).click()
    page.get_by_role("button", name="Step back", exact=True).click()
    expect(graph).to_have_attribute("data-step", "1")
    assert page.locator("#narration").get_attribute("aria-live") == "polite"


def test_click_node_opens_details(page):
    trace = run_example(page, "basic-mul")
    page.keyboard.press("End")
    mul = next(n for n in trace["nodes"] if n["name"] == "MulBackward0")
    page.locator(f'[data-node-id="{mul["id"]}"]').click()
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("MulBackward0")
    expect(panel).to_contain_text("saved for backward")
    a = next(t for t in trace["tensors"] if t["name"] == "a")
    page.locator(f'[data-tensor-id="{a["id"]}"]').first.click()
    for text in ("requires_grad", "is_leaf", "retains_grad", "grad_fn", "8", "64", "216"):
        expect(panel).to_contain_text(text)
    page.get_by_role("button", name="Close details").click()
    expect(panel).to_be_hidden()


def test_untrusted_text_stays_text(page):
    code = (
        "import torch\n"
        "def fwd(ctx, x):\n    return x * 2\n"
        "def bwd(ctx, g):\n    return g * 2\n"
        "Evil = type('<img src=x onerror=alert(1)>', (torch.autograd.Function,),\n"
        "            {'forward': staticmethod(fwd), 'backward': staticmethod(bwd)})\n"
        "x = torch.ones(2, requires_grad=True)\n"
        "y = Evil.apply(x)\n"
        "print('<script>alert(2)</script>')\n"
        "y.sum().backward()\n"
        "raise ValueError('<b>bold</b> <img src=x onerror=alert(3)>')\n"
    )
    trace = type_program(page, code)
    assert trace["status"] == "error"
    expect(page.locator("#graph .node.op.custom")).to_contain_text("<img src=x onerror=alert(1)>Backward")
    expect(page.locator("#error-message")).to_contain_text("<b>bold</b> <img src=x onerror=alert(3)>")
    expect(page.locator("#stdout")).to_contain_text("<script>alert(2)</script>")
    expect(page.locator("#narration")).to_contain_text("<b>bold</b>")
    assert page.locator("#graph img, #error img, #stdout script, #narration b, #error b").count() == 0
    custom = next(n for n in trace["nodes"] if n["kind"] == "custom")
    page.locator(f'[data-node-id="{custom["id"]}"]').click()
    expect(page.locator("#panel h3")).to_have_text("<img src=x onerror=alert(1)>Backward")
    assert page.locator("#panel img").count() == 0
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_dark_theme_and_modules(page):
    trace = run_example(page, "mlp-training-step")
    assert_graph_matches(page, trace)
    page.get_by_role("button", name="Toggle dark theme").click()
    assert page.get_attribute("html", "data-theme") == "dark"
    page.keyboard.press("End")
    assert_final_grads(page, trace)
    expect(page.locator("#graph .group").first).to_be_visible()


def test_page_loads_offline_with_only_own_resources(page, base_url):
    wait_first_load(page)
    urls = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(base_url) for u in urls), urls


def test_every_gallery_example_draws_and_steps(page):
    """Each gallery example: all nodes drawn, the last step reached with End, no page errors."""
    wait_first_load(page)
    ids = page.eval_on_selector_all("#gallery option", "os => os.map(o => o.value).filter(Boolean)")
    assert len(ids) >= 10
    for ex in ids:
        trace = run_example(page, ex)
        assert_graph_matches(page, trace)
        page.locator("#graph svg.graph-svg").click(position={"x": 5, "y": 300})
        page.keyboard.press("End")
        expect(page.locator("#graph")).to_have_attribute("data-step", str(steps(page)))
        assert_final_grads(page, trace)
        assert page.inner_text("#narration").strip(), ex


def test_example_description_goes_when_the_code_leaves_the_example(page):
    """An undo that brings back the previous program, a paste or typing: the example's description goes with its code."""
    run_example(page, "basic-mul")
    run_example(page, "leaf-and-grad-fn")
    desc = page.locator("#example-description")
    expect(desc).not_to_have_text("")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+z")  # back to basic-mul's code: not the example the description is about
    expect(desc).to_have_text("")
    expect(page.locator("#gallery")).to_have_value("")
    run_example(page, "leaf-and-grad-fn")
    expect(desc).not_to_have_text("")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("y = 1\n")
    expect(desc).to_have_text("")
