"""Real-model corpus programs on the page (issue 16): stepped from the first step to the last with no script error,
parameters named by their module path. A handful only (stepping is slow here); the optimizer-card crash on
parameters over 256 elements is s4a's, so these are programs whose updated parameters are small or updated by hand."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .helpers import step, step_to_end, steps, type_program

pytestmark = pytest.mark.browser
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def step_through(page) -> None:
    """→ from the first step to the last as fast as the page takes keys (each key renders that step)."""
    for _ in range(steps(page)):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#graph")).to_have_attribute("data-step", str(steps(page)), timeout=60_000)


def open_details(page, tid: str):
    # the box may lie outside the visible part of a big graph: the click event itself, as a click on it gives
    page.locator(f'#graph g.node.tensor[data-tensor-id="{tid}"]').dispatch_event("click")
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    return panel


def test_gradcam_steps_with_every_caption(page):
    trace = type_program(page, (CORPUS / "real_gradcam.py").read_text())
    assert trace["status"] == "ok", trace["error"]
    seen = step_to_end(page)
    assert len(seen) == steps(page) + 1 and all(text.strip() for text in seen)
    assert any("model.features.3" in text for text in seen)  # steps inside a layer name it by its path


@pytest.mark.parametrize("name", ["real_per_sample_grads", "real_fno_spectral_conv", "real_word_language_model"])
def test_real_model_steps_from_first_to_last_without_a_script_error(page, name):
    trace = type_program(page, (CORPUS / f"{name}.py").read_text())
    assert trace["status"] == "ok", trace["error"]
    step_through(page)
    assert step(page) == steps(page)
    if name == "real_fno_spectral_conv":  # complex weights: the real and imaginary parts of their grad
        w1 = next(t for t in trace["tensors"] if t["name"] == "model.conv0.weights1")
        expect(open_details(page, w1["id"])).to_contain_text("j")
    if name == "real_word_language_model":  # tied encoder/decoder, never named after init_hidden's `weight`
        enc = next(t for t in trace["tensors"] if t["name"] == "model.encoder.weight")
        expect(open_details(page, enc["id"])).to_contain_text("tied with model.decoder.weight")
    if name == "real_per_sample_grads":  # inside vmap(grad): the narration says no .grad is filled
        i = next(i for i, s in enumerate(trace["forward"]) if s.get("transform"))
        k = i + 1 + sum(len(p["steps"]) + bool(p.get("error")) for p in trace["backward"] if p["after_forward"] <= i)
        page.keyboard.press("Home")
        for _ in range(k):
            page.keyboard.press("ArrowRight")
        expect(page.locator("#narration")).to_contain_text("no .grad is filled")
        expect(page.locator("#narration")).not_to_contain_text("empty [")
    assert not page.problems, page.problems


def test_nanogpt_parameter_is_named_by_its_path_and_says_it_is_tied(page):
    code = (CORPUS / "real_nanogpt.py").read_text()
    trace = type_program(page, code)
    wte = next(t for t in trace["tensors"] if t["name"] == "model.transformer.wte.weight")
    assert wte["tied"] == ["model.lm_head.weight"]
    page.keyboard.press("End")  # the last step: every parameter has been used, its box is drawn
    expect(page.locator("#graph")).to_have_attribute("data-step", str(steps(page)))
    expect(page.locator(f'#graph g.node.tensor[data-tensor-id="{wte["id"]}"]')).to_contain_text("model.transformer.wte.weight")
    panel = open_details(page, wte["id"])  # the box may lie outside the visible part of the graph
    expect(panel.locator("h3")).to_have_text("model.transformer.wte.weight")
    expect(panel).to_contain_text("tied with model.lm_head.weight")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "nanogpt_parameter_path.png"))
