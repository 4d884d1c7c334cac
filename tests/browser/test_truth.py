"""The page tells the truth at every step: after any path to step k (step, back, Home, End, scrubber jumps),
every tensor box's value and grad rows equal the trace's state at k, computed here in Python from the trace
JSON (tests/browser/truth_oracle.py), never by the page's own model. On the page, /embed and the standalone file.

The page's model is checked at every step of every gallery example and corpus program in node
(tests/test_truth_model.py); here a few examples per surface, chosen to cover the features the drawing must get
right (accumulation, zero_, hooks, in-place views, errors, an nn.Module step), check that what is drawn is that
state. Walks are seeded from the example's name (crc32), so a failing walk replays exactly: its label has the seed."""
import base64
import json
import random
import re
import zlib

import pytest
from playwright.sync_api import expect

from gradtrace.examples import examples
from gradtrace.export import standalone_html, trace_program

from .helpers import fetch_trace, run_example
from .truth_oracle import Oracle, close, flat

pytestmark = pytest.mark.browser

PAGE_WALKS = ["basic-mul", "retain-graph", "zero-grad", "register-hook", "view-inplace", "detach-error",
              "mlp-training-step"]
EMBED_WALKS = ["vector-jacobian", "multi-output", "custom-function-ctx"]
STANDALONE_WALKS = ["chain-rule", "no-grad-inplace", "bce-loss"]


def seed_of(surface: str, ex: str) -> int:
    """The same walk on every run and machine (hash() of a str changes with PYTHONHASHSEED)."""
    return zlib.crc32(f"{surface}:{ex}".encode()) % 10_000

READ_ROWS = """() => [...document.querySelectorAll('#graph g.node.tensor[data-tensor-id]')]
  .filter((g) => !g.classList.contains('future') && !g.classList.contains('folded'))
  .map((g) => {
    const row = g.querySelector('.gradrow');
    const txt = (sel) => { const t = sel && sel.querySelector('text.val'); return t ? t.textContent : null; };
    return {
      id: g.dataset.tensorId, value: g.getAttribute('data-value'), grad: g.getAttribute('data-grad'),
      flow: g.getAttribute('data-flow'),
      dataText: txt(g.querySelector('.datarow')), dataGlyph: !!g.querySelector('.datarow .glyph'),
      gradClass: row ? row.getAttribute('class') : null, gradLabel: row ? row.querySelector('.lbl').textContent : null,
      gradText: row ? txt(row.querySelector('.vals')) : null, gradGlyph: row ? !!row.querySelector('.vals .glyph') : false,
    };
  })"""

NUM = re.compile(r"-?inf|nan|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def shown_numbers(text: str) -> tuple[list[float], bool]:
    """Numbers in a drawn row, and whether the row was cut short ("…")."""
    cut = "…" in text
    body = text.split("…")[0]
    nums = [float(x) for x in NUM.findall(body)]
    if cut and nums and not re.search(r"[\d\]], $|,\s*$", body):
        nums = nums[:-1]  # the last number may itself be cut
    return nums, cut


def agrees(shown: list[float], want: list[float]) -> bool:
    """Shown numbers are the first of the true ones, to the 4 significant digits the page prints."""
    if len(shown) > len(want):
        return False
    for x, y in zip(shown, want):
        if y != y:
            if x == x:
                return False
        elif abs(x - y) > 6e-4 * max(abs(y), 1e-3) + 1e-12 and not (abs(y) < 1e-3 and abs(x - y) <= 6e-4 * abs(y) * 10):
            return False
    return True


def check_row(where, text, glyph, values):
    """A drawn row against the Values it must show."""
    want = flat(values)
    if values is None:
        assert text == "None", f"{where}: shows {text!r}, expected None"
        return
    if want is None or glyph:
        assert glyph or (text and "mean" in text), f"{where}: expected a glyph or statistics, got {text!r}"
        return
    assert text is not None and text != "None", f"{where}: shows {text!r}, expected {want}"
    nums, cut = shown_numbers(text)
    assert agrees(nums, want) and (cut or len(nums) == len(want)), f"{where}: shows {text!r}, expected {want}"


def check_step(pg, oracle: Oracle, k: int, label: str):
    state = oracle.state(k)
    rows = pg.evaluate(READ_ROWS)
    assert rows or k < oracle.total or not oracle.trace["tensors"], f"{label}: no tensor boxes drawn"
    for r in rows:
        tid = r["id"]
        want = state[tid]
        where = f"{label} step {k}/{oracle.total} tensor {tid} ({oracle.tensors[tid]['name']})"
        # the value row
        if r["value"] is not None:
            got = json.loads(r["value"])
            assert close(got if isinstance(got, list) else [got], flat(want["data"])), f"{where}: data-value {got} != {flat(want['data'])}"
        check_row(f"{where} value row", r["dataText"], r["dataGlyph"], want["data"])
        if r["gradClass"] is None:
            continue
        # the grad row: the stored .grad, else the gradient arriving in this pass, else None
        if want["grad"] is not None:
            assert "stored" in r["gradClass"] and r["gradLabel"] == "grad", f"{where}: grad row is {r['gradClass']!r}, .grad is set"
            if r["grad"] is not None:
                got = json.loads(r["grad"])
                assert close(got if isinstance(got, list) else [got], flat(want["grad"])), f"{where}: data-grad {got} != {flat(want['grad'])}"
            check_row(f"{where} grad row", r["gradText"], r["gradGlyph"], want["grad"])
        elif want["flow"] is not None and "flow" in r["gradClass"]:
            assert r["gradLabel"].startswith("dL/d") and len(r["gradLabel"]) > 4, f"{where}: label {r['gradLabel']!r} names no tensor"
            if r["flow"] is not None:
                got = json.loads(r["flow"])
                assert close(got if isinstance(got, list) else [got], flat(want["flow"]), 1e-5), f"{where}: data-flow {got} != {flat(want['flow'])}"
            check_row(f"{where} flow row", r["gradText"], r["gradGlyph"], want["flow"])
        else:
            assert "none" in r["gradClass"].split() or want["flow"] is not None, f"{where}: grad row {r['gradClass']!r} but .grad is None"
            if want["flow"] is None:
                check_row(f"{where} grad row", r["gradText"], r["gradGlyph"], None)


def moves(total: int, rng: random.Random, n: int) -> list[tuple[str, int]]:
    """A random navigation: (action, scrubber target) pairs; mostly steps, with rewinds and jumps."""
    out = [("end", 0), ("home", 0)]  # every sequence rewinds once before stepping (the bug's trigger)
    for _ in range(n):
        r = rng.random()
        out.append(("step", 0) if r < 0.5 else ("back", 0) if r < 0.68 else ("home", 0) if r < 0.74
                   else ("end", 0) if r < 0.8 else ("jump", rng.randint(0, total)))
    return out


def navigate(pg, action: str, target: int, k: int, total: int) -> int:
    if action == "step":
        pg.get_by_role("button", name="Step forward", exact=True).click()
        k = min(total, k + 1)
    elif action == "back":
        pg.keyboard.press("ArrowLeft")
        k = max(0, k - 1)
    elif action == "home":
        pg.keyboard.press("Home")
        k = 0
    elif action == "end":
        pg.keyboard.press("End")
        k = total
    else:
        pg.evaluate("(k) => { const s = document.getElementById('scrubber'); s.value = String(k); s.dispatchEvent(new Event('input')); }", target)
        k = target
    expect(pg.locator("#graph")).to_have_attribute("data-step", str(k))
    return k


def walk(pg, trace: dict, label: str, seed: int, n: int, replay: int = 60):
    oracle = Oracle(trace)
    total = oracle.total
    assert int(pg.get_attribute("#graph", "data-steps")) == total, label
    label = f"{label} (seed {seed})"
    rng = random.Random(seed)
    pg.locator("#graph").click(position={"x": 5, "y": 60})  # keys go to the page, not a focused control
    k = int(pg.get_attribute("#graph", "data-step"))
    check_step(pg, oracle, k, label)
    for action, target in moves(total, rng, n):
        k = navigate(pg, action, target, k, total)
        check_step(pg, oracle, k, f"{label} after {action}")
    for _ in range(min(total, replay)):  # then step forward from the start, as a lecturer replaying
        if k >= total:
            break
        k = navigate(pg, "step", 0, k, total)
        check_step(pg, oracle, k, f"{label} replay")


def test_walk_seeds_are_stable_and_every_walked_example_exists():
    assert seed_of("page", "basic-mul") == zlib.crc32(b"page:basic-mul") % 10_000
    ids = {e["id"] for e in examples()}
    assert set(PAGE_WALKS + EMBED_WALKS + STANDALONE_WALKS) <= ids


@pytest.mark.parametrize("ex", PAGE_WALKS)
def test_page_rows_equal_the_trace_state_at_every_step(page, ex):
    trace = run_example(page, ex)
    walk(page, trace, f"page {ex}", seed=seed_of("page", ex), n=30)


def embed_url(base_url: str, code: str) -> str:
    wire = json.dumps({"v": 1, "c": code}, separators=(",", ":")).encode()
    return f"{base_url}/embed#v1j.{base64.urlsafe_b64encode(wire).decode().rstrip('=')}"


@pytest.mark.parametrize("ex", EMBED_WALKS)
def test_embed_rows_equal_the_trace_state_at_every_step(page, base_url, ex):
    code = next(e["code"] for e in examples() if e["id"] == ex)
    page.goto(embed_url(base_url, code))
    expect(page.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
    walk(page, fetch_trace(page, code), f"embed {ex}", seed=seed_of("embed", ex), n=15, replay=30)


@pytest.mark.parametrize("ex", STANDALONE_WALKS)
def test_standalone_rows_equal_the_trace_state_at_every_step(browser, tmp_path, ex):
    code = next(e["code"] for e in examples() if e["id"] == ex)
    trace = trace_program(code)
    path = tmp_path / "standalone.html"
    path.write_text(standalone_html(trace, code), encoding="utf-8")
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        pg = ctx.new_page()
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(path.as_uri())
        expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=30_000)
        walk(pg, trace, f"standalone {ex}", seed=seed_of("standalone", ex), n=15, replay=30)
        assert not errors, errors
    finally:
        ctx.close()
