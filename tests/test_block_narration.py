"""Steps at block level are claims about PyTorch: on five real models (CNN, LSTM, GPT-style transformer, VAE, GAN step),
at every overview level, each caption that says a gradient enters a closed block through its outputs or leaves it
through its inputs gives the gradient torch computed for that module call, each parameter's .grad stored inside a block
is torch's, and each block's forward outputs are torch's values. The page's narration module speaks (via node, frontend/tools/narrate.mjs with the view's level);
plain torch runs the same program with per-call module hooks (tests/browser/block_oracle.py)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from browser.block_oracle import agrees, claims, module_calls
from gradtrace.tracer import trace

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "tests" / "browser" / "models"
NAMES = ["cnn", "lstm_lm", "gpt", "vae", "gan", "real_nanogpt"]  # the last: nanoGPT's own model, two training iterations
SOURCES = {n: MODELS / f"{n}.py" for n in NAMES} | {"real_nanogpt": ROOT / "tests" / "corpus" / "real_nanogpt.py"}
LEVELS = [0, 1, 2, 3]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is needed to run the page's narration module")


@pytest.fixture(scope="module")
def spoken():
    """{name: (code, {level: [step narrations]})}: one node run for every model at every level."""
    codes = {n: SOURCES[n].read_text() for n in NAMES}
    traces = {n: trace(c, seed=0) for n, c in codes.items()}
    docs = [{"code": codes[n], "trace": traces[n], "level": lv} for n in NAMES for lv in LEVELS]
    out = subprocess.run([NODE, str(ROOT / "frontend/tools/narrate.mjs")], input=json.dumps(docs),
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    said = json.loads(out)
    return {n: (codes[n], {lv: said[i * len(LEVELS) + j] for j, lv in enumerate(LEVELS)}) for i, n in enumerate(NAMES)}


def _match(values: list[str], tensors: list, what: str) -> None:
    tensors = [t for t in tensors if t is not None]
    assert values, f"{what}: no value said"
    for v in values:
        assert any(agrees(v, t) for t in tensors), f"{what}: {v} is none of torch's {[tuple(t.shape) for t in tensors]}"


@pytest.mark.parametrize("name", NAMES)
def test_block_level_numbers_are_torchs(spoken, name):
    code, by_level = spoken[name]
    grads: list = []
    calls = module_calls(code, grads)
    seen = {"enter": 0, "leave": 0, "none_leave": 0, "output": 0, "stored": 0}
    for level, steps in by_level.items():
        for s in steps:
            if not s["entry"] or " · block " not in s["title"]:
                continue
            where = f"{name} level {level} step {s['k']}: {s['text'][:160]}"
            if s["entry"]["kind"] == "backward":
                m = re.search(r"node (\d+) of (\d+)", s["text"])
                assert m and 1 <= int(m[1]) <= int(m[2]), where
                assert s["title"].endswith(f" · {m[1]}/{m[2]}"), where
            c = claims(s["text"])
            for kind, key in (("enter", "grad_out"), ("leave", "grad_in"), ("output", "out")):
                if c[kind] is None:
                    continue
                path, call, values = c[kind]
                assert (path, call) in calls, f"{where}: torch made no call {call} of {path}"
                _match(values, calls[(path, call)][key], f"{where} [{kind}]")
                seen[kind] += 1
            if c["stored"]:  # an AccumulateGrad runs once per pass: the .grad it leaves is torch's right after that backward()
                param, value = c["stored"]
                p = int(re.match(r"Backward pass (\d+)/", s["title"])[1]) - 1
                assert agrees(value, grads[p].get(param)), f"{where}: {param}.grad = {value}, torch {grads[p].get(param)}"
                seen["stored"] += 1
            if c["none_leave"]:
                path, call, _ = c["none_leave"]
                assert all(g is None for g in calls[(path, call)]["grad_in"]), f"{where}: torch sent a gradient to an input"
                seen["none_leave"] += 1
    assert seen["enter"] >= 2 and seen["output"] >= 2 and seen["stored"] >= 2, (name, seen)
    assert seen["leave"] >= 1 and seen["leave"] + seen["none_leave"] >= 2, (name, seen)


def test_folded_gpt_block_is_told_as_itself(spoken):
    """GPT's h.1 is folded into "Block ×1" at the first levels: its steps name model.h.1, its engine order has all its
    nodes, and the gradient that leaves h.1 is what enters h.0."""
    _, by_level = spoken["gpt"]
    texts = [s["text"] for s in by_level[1] if s["title"].startswith("Backward") and " · block model.h.1 · " in s["title"]]
    assert texts and all('model.h.1 (Block, folded into "Block ×1")' in t or "Inside it the engine runs" in t for t in texts)
    n = int(re.search(r"node \d+ of (\d+)", texts[0])[1])
    assert len(texts) == n, "one step per node of h.1's engine order"
    left = claims(texts[-1])["leave"]
    entered = next(claims(s["text"])["enter"] for s in by_level[1] if s["title"].startswith("Backward") and " · block model.h.0 · 1/" in s["title"])
    assert left and entered and left[2][-1] == entered[2][-1], (left, entered)
