"""The wire check (gradtrace/wire): value rows must agree with their shape and max_tensor_elements, refs must point
into the table, non-finite numbers are refused; the full form is refused past its cap before it is built; the
pool caps a task's CPU and a client's budget (issue 19)."""
import json

import pytest

from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner
from gradtrace.tracer.compact import expand
from gradtrace.wire import pool as wire_pool
from gradtrace.wire.check import Invalid, check_frame
from gradtrace.wire.render import TooLarge, full_size, render

from async_helpers import run_async

CODE = "import torch\nx = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)\n(x * x).sum().backward()\n"


@pytest.fixture(scope="module")
def frame() -> dict:
    from gradtrace.tracer import trace

    return trace(CODE, format="compact", compact_version=1)


def row_of(t: dict) -> dict:
    return next(r for r in t["value_table"] if r["shape"] == [2, 2])


def test_a_real_trace_passes_and_expands_to_what_torch_computed(frame):
    canonical, meta = check_frame(json.dumps(frame).encode(), 256)
    assert meta["status"] == "ok"
    full = json.loads(render(canonical, "full", 1, "k" * 32, 10**8))
    assert full["tensors"][0]["data"]["values"] == [[1.0, 2.0], [3.0, 4.0]]
    assert full["tensors"][0]["grad"]["values"] == [[2.0, 4.0], [6.0, 8.0]]  # d(sum x²)/dx = 2x
    assert full == {**expand(json.loads(canonical)), "trace_key": "k" * 32}


@pytest.mark.parametrize("values", [[[1.0, 2.0], [3.0]], [[1.0, 2.0, 3.0], [3.0, 4.0]], [1.0, 2.0, 3.0, 4.0],
                                    [[1.0, 2.0], [3.0, [4.0]]], [[1.0, 2.0], [3.0, True]], [[1.0, 2.0], [3.0, "x"]]])
def test_a_row_that_disagrees_with_its_shape_is_refused(frame, values):
    forged = json.loads(json.dumps(frame))
    row_of(forged)["values"] = values
    with pytest.raises(Invalid):
        check_frame(json.dumps(forged).encode(), 256)


def test_a_row_over_max_tensor_elements_is_refused(frame):
    forged = json.loads(json.dumps(frame))
    row = row_of(forged)
    row["shape"], row["values"] = [300], [0.5] * 300
    with pytest.raises(Invalid, match="more than 256"):
        check_frame(json.dumps(forged).encode(), 256)
    row["shape"], row["values"] = [300], None  # a summary of a big tensor: no contents, fine
    check_frame(json.dumps(forged).encode(), 256)


def test_refs_outside_the_table_and_overflowing_numbers_are_refused(frame):
    forged = json.loads(json.dumps(frame))
    forged["tensors"][0]["data"] = len(forged["value_table"])
    with pytest.raises(Invalid, match="outside"):
        check_frame(json.dumps(forged).encode(), 256)
    text = json.dumps(frame).replace("3.0", "1e999", 1)
    with pytest.raises(Invalid):
        check_frame(text.encode(), 256)


def test_the_full_form_is_refused_past_its_cap_before_it_is_built(frame):
    forged = json.loads(json.dumps(frame))
    forged["forward"][0]["values"] = [0] * 200_000  # one row referenced 200,000 times: ~10 MB when written out
    canonical, _ = check_frame(json.dumps(forged).encode(), 256)
    assert full_size(json.loads(canonical), len(canonical), 10**12) > 5_000_000
    with pytest.raises(TooLarge) as big:
        render(canonical, "full", 1, "k" * 32, 1_000_000)
    assert big.value.cap == 1_000_000
    assert len(render(canonical, "compact", 2, "k" * 32, 1_000_000)) < 1_000_000  # the compact form still fits


def test_a_clients_cpu_budget_makes_that_client_wait():
    budget = wire_pool.Budget(rate=0.5, burst=1.0)
    assert budget.wait_s("a") == 0
    budget.charge("a", 3.0)  # 2 s in debt: 4 s at half a CPU per second
    assert 3.5 < budget.wait_s("a") <= 4.0 and budget.wait_s("b") == 0


def _spin():
    while True:
        pass


def test_a_task_past_its_cpu_cap_is_stopped_and_the_pool_goes_on():
    settings = Settings(check_workers=1, check_task_cpu_s=0.3)
    checks = wire_pool.CheckPool(settings)

    async def main():
        with pytest.raises(Invalid, match="CPU"):
            await checks._call("a", _spin)
        trace = InProcessRunner().run_sync(CODE)
        canonical, meta = await checks.check(trace, "b")
        return meta

    try:
        assert run_async(main)["status"] == "ok"
    finally:
        checks.close()
