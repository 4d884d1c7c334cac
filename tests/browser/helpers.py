"""Driving the page the way a user does: gallery, editor, Run, timeline buttons; reading the DOM back."""
import json
from pathlib import Path

from playwright.sync_api import Page, expect


def loads(page: Page) -> int:
    return int(page.get_attribute("#graph", "data-loads") or 0)


def wait_loaded(page: Page, after: int, timeout: float = 30_000) -> None:
    expect(page.locator("#graph")).to_have_attribute("data-loads", str(after + 1), timeout=timeout)


def run_example(page: Page, example_id: str) -> dict:
    """Pick a gallery example (which runs it) and return the trace the server gives for it."""
    expect(page.locator(f'#gallery option[value="{example_id}"]')).to_have_count(1, timeout=20_000)
    wait_first_load(page)
    n = loads(page)
    page.select_option("#gallery", example_id)
    wait_loaded(page, n)
    return fetch_trace(page, code_of(page, example_id))


def wait_first_load(page: Page) -> None:
    expect(page.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000) if loads(page) == 0 else None


def code_of(page: Page, example_id: str) -> str:
    r = page.request.get(origin(page) + "/api/v1/examples")
    return next(e["code"] for e in r.json() if e["id"] == example_id)


def origin(page: Page) -> str:
    """scheme://host:port of the page (its URL also carries a path and the share fragment)."""
    return "/".join(page.url.split("/", 3)[:3])


def fetch_trace(page: Page, code: str, seed: int = 0) -> dict:
    r = page.request.post(origin(page) + "/api/v1/traces", data=json.dumps({"code": code, "seed": seed}),
                          headers={"Content-Type": "application/json"})
    assert r.ok, r.status
    return r.json()


def type_program(page: Page, code: str) -> dict:
    """Replace the editor's text with `code`, press Run, wait for the result; return the trace."""
    wait_first_load(page)
    editor = page.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)
    n = loads(page)
    page.get_by_role("button", name="Run", exact=True).click()
    wait_loaded(page, n)
    return fetch_trace(page, code)


def step(page: Page) -> int:
    return int(page.get_attribute("#graph", "data-step"))


def steps(page: Page) -> int:
    return int(page.get_attribute("#graph", "data-steps"))


def step_to_end(page: Page, on_step=None) -> list[str]:
    """Press Step forward until the last step; return the narration seen at every step (incl. step 0).
    `on_step(k)` is called at each step k reached, to read whatever else a test needs there."""
    seen = [page.inner_text("#narration")]
    button = page.get_by_role("button", name="Step forward", exact=True)
    while step(page) < steps(page):
        k = step(page)
        button.click()
        expect(page.locator("#graph")).to_have_attribute("data-step", str(k + 1))
        if on_step is not None:
            on_step(k + 1)
        seen.append(page.inner_text("#narration"))
    return seen


def drawn_node_ids(page: Page) -> set[str]:
    return set(page.eval_on_selector_all("#graph [data-node-id]", "els => els.map(e => e.dataset.nodeId)"))


def drawn_tensor_ids(page: Page) -> set[str]:
    return set(page.eval_on_selector_all("#graph [data-tensor-id]", "els => els.map(e => e.dataset.tensorId)"))


def flat(values):
    if values is None:
        return None
    out = []

    def walk(x):
        if isinstance(x, list):
            for y in x:
                walk(y)
        else:
            out.append(x)

    walk(values)
    return out


def fmt(x: float) -> str:
    """The page's number format: up to 4 significant digits, no trailing zeros."""
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{float(f'{x:.4g}'):g}" if 1e-3 <= abs(x) < 1e6 else f"{x:.2e}"


def shown_grad(page: Page, tensor_id: str):
    """The .grad numbers the page shows for a tensor (from its box or its owner's grad chip)."""
    el = page.locator(f'#graph [data-tensor-id="{tensor_id}"]').first
    raw = el.get_attribute("data-grad") or el.get_attribute("data-value")
    return json.loads(raw) if raw else None


def shoot(page: Page, name: str) -> None:
    """A screenshot for a person to look at, in test-artifacts/browser/."""
    from .conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


MODELS = Path(__file__).parent / "models"
_model_traces: dict = {}


def model_trace_text(page: Page, name: str) -> tuple[str, str]:
    """(compact trace JSON text, code) of a real model of tests/browser/models, traced once per process."""
    code = (MODELS / f"{name}.py").read_text()
    if name not in _model_traces:
        r = page.request.post(origin(page) + "/api/v1/traces", data=json.dumps({"code": code, "seed": 0, "format": "compact"}),
                              headers={"Content-Type": "application/json"})
        assert r.ok, r.status
        _model_traces[name] = r.text()
    return _model_traces[name], code
