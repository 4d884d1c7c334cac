"""Loops folded by the tracer (Trace.loops, ForwardStep.iteration/optim), checked against plain torch runs."""
import json
import math
from pathlib import Path

import pytest
import torch
from oracle import run_plain
from tracer_helpers import run, src, var

from gradtrace.schema import Trace
from gradtrace.tracer import Limits, trace
from gradtrace.tracer.compact import expand

SGD_LOOP = src("""
import torch
w = torch.randn(3, requires_grad=True)
x = torch.randn(20, 3)
y = x @ torch.tensor([1.0, -2.0, 0.5])
opt = torch.optim.SGD([w], lr=0.05, momentum=0.9)
for step in range(200):
    opt.zero_grad()
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(step, loss.item())
print("done", w.norm().item())
""")


def _plain_sgd(code: str):
    """Losses, ‖w‖ after each iteration, and the final w, from a plain run of SGD_LOOP's body."""
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    x = torch.randn(20, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    opt = torch.optim.SGD([w], lr=0.05, momentum=0.9)
    losses, norms = [], []
    for _ in range(200):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        norms.append(w.norm().item())
    return losses, norms, w


def _close(a, b, rel=1e-5):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-7)


def test_a_training_loop_records_its_first_iterations_and_its_last_and_a_series_of_every_iteration():
    t = run(SGD_LOOP)
    plain = run_plain(SGD_LOOP, 0)
    losses, norms, w = _plain_sgd(SGD_LOOP)
    assert t["status"] == "ok" and t["stdout"] == plain.stdout            # the program ran to its end
    (loop,) = t["loops"]
    assert (loop["line"], loop["end_line"], loop["iterations"]) == (6, 12, 200)
    assert [r["index"] for r in loop["recorded"]] == [0, 1, 2, 199]
    assert loop["omitted"]["backward_passes"] == 196 and loop["omitted"]["forward_steps"] > 196 * 4
    for r in loop["recorded"]:
        start, stop = r["forward"]
        assert stop > start and all(s["iteration"] == {"loop": "L1", "index": r["index"]} for s in t["forward"][start:stop])
        assert [t["backward"][p]["line"] for p in r["backward"]] == [9]
    assert all("iteration" not in s for s in t["forward"][:loop["recorded"][0]["forward"][0]])
    series = {(s["name"], s["line"]): s["values"] for s in loop["series"]}
    assert len(series[("loss", 9)]) == 200 and all(_close(a, b) for a, b in zip(series[("loss", 9)], losses))
    printed = series[("loss", 12)]
    assert [i for i, v in enumerate(printed) if v is not None] == [0, 50, 100, 150]
    assert all(_close(printed[i], losses[i]) for i in (0, 50, 100, 150))
    assert all(_close(a, b) for a, b in zip(series[("‖w‖", None)], norms))
    assert torch.allclose(torch.tensor(var(t, "w")["data"]["values"]), w.detach())
    assert torch.allclose(torch.tensor(var(t, "w")["grad"]["values"]), w.grad)
    assert torch.allclose(torch.tensor(var(t, "w")["data"]["values"]), plain.namespace["w"].detach())


def test_optimizer_steps_carry_the_update_they_made():
    t = run(SGD_LOOP)
    updates = [s for s in t["forward"] if s.get("optim")]
    assert len(updates) == 4                                               # one per recorded iteration
    for s in updates:
        o = s["optim"]
        assert s["kind"] == "optim" and o["optimizer"] == "SGD" and o["param"] in s["outputs"]
        assert o["hyper"]["lr"] == 0.05 and o["hyper"]["momentum"] == 0.9
        before, grad, after = (torch.tensor(o[k]["values"]) for k in ("before", "grad", "after"))
        buf = torch.tensor(o["terms"]["momentum_buffer"]["values"])
        assert torch.allclose(after, before - 0.05 * buf, atol=1e-6)       # w ← w − lr·buf
    first = updates[0]["optim"]
    assert torch.allclose(torch.tensor(first["terms"]["momentum_buffer"]["values"]), torch.tensor(first["grad"]["values"]))


def test_a_while_loop_of_unknown_length_records_its_first_iterations_and_its_last():
    code = src("""
    import torch
    x = torch.tensor(1.0, requires_grad=True)
    n = 0
    while n < 40:
        y = (x * 1.5).sin()
        y.backward()
        n += 1
    print(n, x.grad.item())
    """)
    t = run(code)
    (loop,) = t["loops"]
    assert loop["line"] == 4 and loop["iterations"] == 40
    assert [r["index"] for r in loop["recorded"]] == [0, 1, 2, 39]         # the last one too, though its end was unknown
    assert loop["omitted"]["backward_passes"] == 36 and len(t["backward"]) == 4
    ys = next(s for s in loop["series"] if s["line"] == 6)["values"]
    assert len(ys) == 40 and _close(ys[-1], math.sin(1.5))
    assert t["stdout"] == run_plain(code, 0).stdout
    assert abs(var(t, "x")["grad"]["values"] - 40 * 1.5 * math.cos(1.5)) < 1e-4


def test_short_loops_are_recorded_whole_and_nested_loops_fold_as_one():
    code = src("""
    import torch
    a = torch.ones(2, requires_grad=True)
    for i in range(3):
        a2 = a * 2
    for epoch in range(30):
        for batch in range(2):
            loss = (a * (epoch + batch)).sum()
            loss.backward()
    """)
    t = run(code)
    short, outer = t["loops"]
    assert short["iterations"] == 3 and [r["index"] for r in short["recorded"]] == [0, 1, 2]
    assert short["omitted"] == {"forward_steps": 0, "backward_passes": 0}
    assert outer["line"] == 5 and outer["iterations"] == 30
    assert [r["index"] for r in outer["recorded"]] == [0, 1, 2, 29]
    assert all(len(r["backward"]) == 2 for r in outer["recorded"])         # the inner loop's passes, plainly
    assert var(t, "a")["grad"]["values"] == [sum(e + b for e in range(30) for b in range(2))] * 2


def test_a_loop_that_breaks_or_raises_still_reports_its_iterations():
    code = src("""
    import torch
    w = torch.zeros(1, requires_grad=True)
    for i in range(1000):
        loss = ((w - 3) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            w.grad.zero_()
        if loss.item() < 1e-6:
            break
    z = w / 0
    bad = w[5]
    """)
    t = run(code)
    (loop,) = t["loops"]
    plain = run_plain(code, 0)
    n = plain.namespace["i"] + 1
    assert loop["iterations"] == n and loop["recorded"][-1]["index"] >= 2
    assert t["status"] == "error" and t["error"]["line"] == 12              # the IndexError after the loop
    assert abs(var(t, "w")["data"]["values"][0] - plain.namespace["w"].item()) < 1e-6


def test_compact_and_full_are_the_same_trace():
    full = trace(SGD_LOOP)
    compact = trace(SGD_LOOP, format="compact", compact_version=1)  # version 1: a Trace with a value table
    Trace.model_validate(compact)
    assert "format" not in full and compact["format"] == "compact"
    table = compact["value_table"]
    assert len({json.dumps(v, sort_keys=True) for v in table}) == len(table)    # identical values share an entry
    v2 = trace(SGD_LOOP, format="compact")  # version 2: column tables too (tests/test_compact_v2.py)
    assert len(json.dumps(v2)) < len(json.dumps(compact)) < len(json.dumps(full))
    assert expand(compact) == full and expand(v2) == full


def test_a_trace_limit_never_stops_the_program():
    code = src("""
    import torch
    x = torch.ones(3, requires_grad=True)
    total = torch.zeros(3)
    for i in range(3000):
        total = total + (x * i).sin()
    total.sum().backward()
    print(x.grad)
    """)
    t = trace(code, limits=Limits(max_nodes=500, loop_full_iterations=10_000))
    Trace.model_validate(t)
    plain = run_plain(code, 0)
    assert t["status"] == "ok" and t["stdout"] == plain.stdout
    assert t["omitted"]["reason"].startswith("the autograd graph has more than 500 nodes")
    assert len(t["nodes"]) <= 500 and t["omitted"]["forward_steps"] > 0
    assert torch.allclose(torch.tensor(var(t, "x")["grad"]["values"]), plain.namespace["x"].grad)


CORPUS = Path(__file__).parent / "corpus"
TUTORIALS = ["tut_polynomial_autograd", "tut_polynomial_custom_function", "tut_polynomial_nn",
             "tut_two_layer_net_custom_function"]


@pytest.mark.parametrize("name", TUTORIALS)
def test_published_tutorials_fold_into_a_small_trace(name):
    """The four "Learning PyTorch with Examples" programs (unchanged, in tests/corpus/ with their sources)."""
    path = CORPUS / f"{name}.py"
    if not path.exists():
        pytest.skip("the tutorial corpus (tests/corpus/) is not in this checkout")
    code = path.read_text(encoding="utf-8")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the sandbox: idle OpenMP threads spin on a busy machine
    try:
        t = trace(code, format="compact")
        plain = run_plain(code, 0)
    finally:
        torch.set_num_threads(threads)
    assert t["status"] == "ok" and t["stdout"] == plain.stdout
    assert len(json.dumps(t)) <= 1_000_000
    (loop,) = t["loops"]
    assert loop["iterations"] in (500, 2000) and len(loop["recorded"]) == 4
    loss = next(s for s in loop["series"] if s["name"] == "loss" and any(v is not None for v in s["values"]))
    assert len(loss["values"]) == loop["iterations"]
    full = expand(t)
    for name_, tid in full["variables"].items():
        value = plain.namespace.get(name_)
        data = next(x for x in full["tensors"] if x["id"] == tid)["data"]
        if isinstance(value, torch.Tensor) and data["values"] is not None:
            assert torch.allclose(torch.tensor(data["values"], dtype=torch.float64), value.detach().double(), rtol=1e-4, atol=1e-5)
        elif isinstance(value, torch.Tensor):
            assert math.isclose(data["sum"], value.double().sum().item(), rel_tol=1e-4, abs_tol=1e-3)


def test_a_trace_over_the_byte_limit_keeps_summaries_and_says_so():
    code = src("""
    import torch
    for i in range(8):
        x = torch.randn(16, 16, requires_grad=True)
        y = (x * 2).sin()
        y.sum().backward()
    print(float(x.grad.sum()))
    """)
    # the budget bounds the version 1 compact form (what the sandbox sends); version 2 is smaller still
    whole = trace(code, format="compact", compact_version=1)
    t = trace(code, format="compact", compact_version=1, limits=Limits(max_trace_bytes=60_000))
    assert len(json.dumps(whole)) > 60_000 >= len(json.dumps(t))
    assert t["status"] == "ok" and t["stdout"] == whole["stdout"]
    assert "larger than 60000 bytes" in t["omitted"]["reason"]
    x = expand(t)["tensors"][0]["data"]
    ref = expand(whole)["tensors"][0]["data"]
    assert x["values"] is None and x["shape"] == [16, 16] and x["sum"] == ref["sum"]
