"""The page's model tells the truth at every step of every gallery example: stateAt(trace, k) (the JS the page
draws from, run in node) equals the trace's meaning computed independently in Python (tests/browser/truth_oracle.py)
for each tensor's value, `.grad` and the gradient arriving in the pass. The browser walks (tests/browser/test_truth.py)
then check on a few examples per surface that the drawn rows equal that state."""
import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from gradtrace.examples import examples

from browser.truth_oracle import Oracle, close, flat

ROOT = Path(__file__).resolve().parents[1]
STATES = ROOT / "frontend" / "tests" / "tools" / "states.mjs"

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")


def page_states(traces: list[dict]) -> list[list[dict]]:
    r = subprocess.run(["node", str(STATES)], input=json.dumps(traces), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def numbers(xs):
    return None if xs is None else [float(x) for x in xs]


def differences(trace: dict, steps: list[dict]) -> list[str]:
    """Every (step, tensor, field) where the page model and the Python oracle disagree."""
    oracle = Oracle(trace)
    out = [] if len(steps) == oracle.total + 1 else [f"{len(steps) - 1} steps in the page, {oracle.total} in the oracle"]
    for k, row in enumerate(steps[:oracle.total + 1]):
        want = oracle.state(k)
        for tid, (data, grad, flow) in row.items():
            w = want.get(tid)
            if w is None:
                continue
            for field, got in (("data", data), ("grad", grad), ("flow", flow)):
                if field == "flow" and (w["grad"] is not None or (got is None and w["flow"] is not None)):
                    continue  # dL/dt is shown only while .grad is None, and may be left out (as the drawn row may)
                expected = flat(w[field])
                if expected is None and w[field] is not None:
                    continue  # a summarised tensor: no values to compare
                if not close(numbers(got), expected, 1e-5 if field == "flow" else 1e-6):
                    out.append(f"step {k} tensor {tid} ({oracle.tensors[tid]['name']}) {field}: page {got} != {expected}")
    return out


@pytest.fixture(scope="module")
def gallery(traced_once):
    progs = [(e["id"], e["code"]) for e in examples()]
    traces = [traced_once(code) for _, code in progs]  # as the page gets them: the API's JSON (conftest.py)
    return list(zip([p[0] for p in progs], traces, page_states(traces)))


def test_every_gallery_example_is_true_at_every_step(gallery):
    assert len(gallery) >= 20
    checked = 0
    for ex, trace, steps in gallery:
        assert differences(trace, steps) == [], ex
        checked += sum(len(row) for row in steps)
    assert checked > 2000  # tensor-steps compared: the check really ran over the traces


def test_every_corpus_program_is_true_at_every_step(traced_once):
    """The published tutorials and real models of tests/corpus, traced in-process (they are our own files), once per
    session (test_compact_v2 checks the same traces)."""
    files = sorted((ROOT / "tests" / "corpus").glob("*.py"))
    assert len(files) >= 30
    traces = [traced_once(f.read_text(encoding="utf-8")) for f in files]
    for f, trace, steps in zip(files, traces, page_states(traces)):
        assert differences(trace, steps) == [], f.name


def test_a_wrong_value_in_the_page_state_is_caught(gallery):
    ex, trace, steps = next(g for g in gallery if g[0] == "basic-mul")
    k = len(steps) - 1
    tid, (data, grad, flow) = next((t, v) for t, v in steps[k].items() if v[1])
    broken = [dict(row) for row in steps]
    broken[k][tid] = [data, [g + 1.0 if isinstance(g, (int, float)) and math.isfinite(g) else g for g in grad], flow]
    assert any(f"tensor {tid}" in d and "grad" in d for d in differences(trace, broken))
