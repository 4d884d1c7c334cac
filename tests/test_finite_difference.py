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
# The re-runs' time limit is the server's guard, not what these tests check: generous here (the machine is shared).
ROOMY = Limits(fd_time_s=60.0)

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
    t = trace(code, seed=0, finite_difference={"tensor": leaf, "h": h}, limits=ROOMY)
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


# Issue 16 item 9: module parameters by their path, and programs with loops.
LOOPED_MLP = (
    "import torch\n"
    "import torch.nn as nn\n"
    "torch.manual_seed(0)\n"
    "model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()\n"
    "x = torch.tensor([[0.5, -1.0], [1.5, 0.25]], dtype=torch.float64)\n"
    "h = x\n"
    "for layer in model:\n"
    "    h = layer(h)\n"
    "k = 0\n"
    "while k < 2:\n"
    "    h = h * 1.5\n"
    "    k += 1\n"
    "loss = (h ** 2).sum()\n"
    "loss.backward()\n"
)


@pytest.mark.parametrize("path", ["model.0.weight", "model.0.bias", "model.2.weight"])
def test_module_parameter_by_path_in_a_program_with_for_and_while_loops(path):
    t = trace(LOOPED_MLP, seed=0, finite_difference={"tensor": path, "h": 1e-4}, limits=ROOMY)
    fd = t["finite_difference"]
    assert fd["error"] is None, fd["error"]
    assert next(x for x in t["tensors"] if x["id"] == fd["tensor"])["name"] == path
    want = run_plain(LOOPED_MLP, seed=0).namespace["model"].get_parameter(path.split(".", 1)[1]).grad
    assert torch.allclose(decode(fd["values"]), want, **F64), (decode(fd["values"]), want)


def test_gallery_mlp_parameter_by_path_matches_the_first_pass_gradient():
    code = example("mlp-training-step")["code"]
    fd = check_path(code, "model.fc1.weight")
    first_step = code.replace("for step in range(2):", "for step in range(1):")
    want = run_plain(first_step, seed=0).namespace["model"].fc1.weight.grad.to(torch.float64)
    assert torch.allclose(decode(fd["values"]), want, **F32), (decode(fd["values"]), want)


def check_path(code: str, path: str) -> dict:
    fd = trace(code, seed=0, finite_difference={"tensor": path, "h": 1e-3}, limits=ROOMY)["finite_difference"]
    assert fd["error"] is None, fd["error"]
    assert torch.allclose(decode(fd["values"]), decode(fd["grad"]), **F32)
    return fd


def test_a_plain_leaf_in_a_loop_program_no_longer_fails_with_a_name_error():
    code = ("import torch\nw = torch.tensor([0.3, -0.7], requires_grad=True)\ntotal = 0\n"
            "for i in range(3):\n    total = total + (w * (i + 1)).sin().sum()\ntotal.backward()\n")
    check(code, "w", F32)


def test_a_tied_path_checks_the_one_shared_weight():
    code = ("import torch\nimport torch.nn as nn\nclass Tied(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n        self.emb = nn.Embedding(4, 3)\n        self.head = nn.Linear(3, 4, bias=False)\n"
            "        self.head.weight = self.emb.weight\n    def forward(self, i):\n        return self.head(self.emb(i))\n"
            "torch.manual_seed(0)\nmodel = Tied().double()\nloss = model(torch.tensor([1, 3])).logsumexp(1).sum()\nloss.backward()\n")
    fd = trace(code, seed=0, finite_difference={"tensor": "model.head.weight", "h": 1e-4}, limits=ROOMY)["finite_difference"]
    assert fd["error"] is None, fd["error"]
    want = run_plain(code, seed=0).namespace["model"].emb.weight.grad
    assert torch.allclose(decode(fd["values"]), want, **F64)
