"""Finite differences: the tracer re-runs the program with a leaf nudged; the result agrees with .grad and with torch."""
import pytest
import torch

from gradtrace.config import Settings
from gradtrace.examples import example
from gradtrace.schema import Trace
from gradtrace.tracer import Limits, trace
from oracle import decode, run_plain

# float32 programs: the central difference carries ~eps·|f|/h of rounding, so compare loosely; float64 tightly.
F32 = dict(rtol=2e-2, atol=2e-2)
F64 = dict(rtol=1e-6, atol=1e-7)

CASES = [  # (example or program, leaf, tolerance)
    ("basic-mul", "a", F32),
    ("basic-mul", "b", F32),
    ("affine-mm2", "b", F32),
    ("bce-loss", "w", F32),
    ("vector-jacobian", "x", F32),
    ("chain-rule", "x", F32),
]

F64_PROGRAM = (
    "import torch\n"
    "x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)\n"
    "w = torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True)\n"
    "y = torch.tanh(x @ w).exp().sum() + (x ** 3).mean()\n"
    "y.backward()\n"
)


def check(code: str, leaf: str, tol: dict, h: float = 1e-3):
    t = trace(code, seed=0, finite_difference={"tensor": leaf, "h": h})
    Trace.model_validate(t)
    fd = t["finite_difference"]
    assert fd["error"] is None, fd["error"]
    assert fd["tensor"] == t["variables"][leaf] and fd["h"] == h
    got = decode(fd["values"])
    # against the trace's own .grad contribution, and against plain torch's .grad of the same program
    assert torch.allclose(got, decode(fd["grad"]), **tol), (got, decode(fd["grad"]))
    plain = run_plain(code, seed=0).namespace[leaf].grad
    assert torch.allclose(got, plain.to(torch.float64), **tol), (got, plain)
    return fd


@pytest.mark.parametrize("ex,leaf,tol", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_finite_difference_agrees_with_grad(ex, leaf, tol):
    check(example(ex)["code"], leaf, tol)


def test_float64_agrees_tightly():
    fd = check(F64_PROGRAM, "x", F64, h=1e-5)
    assert fd["pass"] == 0 and fd["root"]


def test_a_wrong_gradient_is_caught():
    """A custom Function whose backward is wrong by a factor 2: .grad and the finite difference disagree."""
    code = ("import torch\n"
            "class Sq(torch.autograd.Function):\n"
            "    @staticmethod\n"
            "    def forward(ctx, x):\n"
            "        ctx.save_for_backward(x)\n"
            "        return x * x\n"
            "    @staticmethod\n"
            "    def backward(ctx, g):\n"
            "        x, = ctx.saved_tensors\n"
            "        return g * x  # should be 2 * x\n"
            "x = torch.tensor([1., 2., 3.], dtype=torch.float64, requires_grad=True)\n"
            "Sq.apply(x).sum().backward()\n")
    fd = trace(code, finite_difference={"tensor": "x"})["finite_difference"]
    assert torch.allclose(decode(fd["values"]), torch.tensor([2., 4., 6.], dtype=torch.float64), atol=1e-6)
    assert torch.allclose(decode(fd["grad"]), torch.tensor([1., 2., 3.], dtype=torch.float64))


@pytest.mark.parametrize("code,leaf,why", [
    ("import torch\nx = torch.ones(3, requires_grad=True)\n(x * 2).sum().backward()\n", "nope", "no tensor named"),
    ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny.sum().backward()\n", "y", "not a leaf"),
    ("import torch\nx = torch.ones(17, requires_grad=True)\n(x * 2).sum().backward()\n", "x", "limited to 16"),
    ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\n", "x", "no backward pass"),
])
def test_refusals_say_why(code, leaf, why):
    t = trace(code, finite_difference={"tensor": leaf})
    Trace.model_validate(t)
    assert why in t["finite_difference"]["error"]
    assert t["finite_difference"]["values"] is None


def test_limit_is_a_setting():
    assert Settings().fd_max_elements == 16
    code = "import torch\nx = torch.ones(17, requires_grad=True)\n(x * 2).sum().backward()\n"
    fd = trace(code, limits=Limits(fd_max_elements=32), finite_difference={"tensor": "x"})["finite_difference"]
    assert fd["error"] is None


def test_without_the_option_the_trace_is_unchanged():
    assert "finite_difference" not in trace(example("basic-mul")["code"])


def test_api_passes_the_option_through(api):
    code = example("basic-mul")["code"]
    r = api.post("/api/v1/traces", json={"code": code, "finite_difference": {"tensor": "a", "h": 0.001}})
    assert r.status_code == 200
    fd = r.json()["finite_difference"]
    assert torch.allclose(decode(fd["values"]), torch.tensor([8., 64., 216.], dtype=torch.float64), **F32)
    assert "finite_difference" not in api.post("/api/v1/traces", json={"code": code}).json()
    for bad in ({"tensor": ""}, {"tensor": "a", "h": 0}, {"tensor": "a", "h": "1"}, {"tensor": "a", "extra": 1}, "a"):
        assert api.post("/api/v1/traces", json={"code": code, "finite_difference": bad}).status_code == 422, bad


def test_sandbox_runs_the_check():
    from gradtrace.sandbox import SandboxRunner
    runner = SandboxRunner(Settings(workers=1, queue_size=2, timeout_s=8.0, cpu_s=8, memory_mb=1280))  # uid: GRADTRACE_SANDBOX_UID
    runner.start()
    try:
        from gradtrace.tracer.compact import to_format
        t = to_format(runner.run_sync(example("basic-mul")["code"], 0, {"tensor": "b", "h": 1e-3}), "full")  # the child answers compact
    finally:
        runner.close()
    fd = t["finite_difference"]
    assert fd["error"] is None
    assert torch.allclose(decode(fd["values"]), torch.tensor([4., 32., 108.], dtype=torch.float64), **F32)
