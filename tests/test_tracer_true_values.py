"""Values that are what torch had (issue 16 item 6): complex tensors with both parts, torch.func.vmap(grad) with every
sample's values, and gradcheck with the backward calls and tolerances it really used."""
import torch

from gradtrace.schema import Trace
from gradtrace.tracer import trace
from oracle import decode, run_plain, values_differ

SPECTRAL = """import torch
torch.manual_seed(0)
w = torch.nn.Parameter(torch.rand(2, 2, 2, 2, dtype=torch.cfloat))
x = torch.randn(1, 2, 4, 4)
x_ft = torch.fft.rfft2(x)
out_ft = torch.zeros(1, 2, 4, 3, dtype=torch.cfloat)
out_ft[:, :, :2, :2] = torch.einsum("bixy,ioxy->boxy", x_ft[:, :, :2, :2], w)
y = torch.fft.irfft2(out_ft, s=(4, 4))
loss = y.pow(2).sum()
loss.backward()
"""


def test_complex_values_and_grads_carry_both_parts():
    t = trace(SPECTRAL, seed=0)
    Trace.model_validate(t)
    plain = run_plain(SPECTRAL, seed=0).namespace
    tensors = {x["id"]: x for x in t["tensors"]}
    w = tensors[t["variables"]["w"]]
    assert w["grad"]["imag"] is not None
    assert values_differ(w["grad"], plain["w"].grad) is None
    assert values_differ(w["data"], plain["w"]) is None
    assert values_differ(tensors[t["variables"]["x_ft"]]["data"], plain["x_ft"]) is None
    # a wrong imaginary part is caught, and so is a missing one
    broken = {**w["grad"], "imag": {**w["grad"]["imag"], "values": decode(w["grad"]["imag"]).neg().tolist()}}
    assert values_differ(broken, plain["w"].grad) is not None
    assert values_differ({k: v for k, v in w["grad"].items() if k != "imag"}, plain["w"].grad) is not None


def test_complex_values_survive_the_compact_format():
    from gradtrace.tracer.compact import expand
    full, compact = trace(SPECTRAL, seed=0), expand(trace(SPECTRAL, seed=0, format="compact"))
    w_full = next(x for x in full["tensors"] if x["name"] == "w")
    w_compact = next(x for x in compact["tensors"] if x["name"] == "w")
    assert w_compact["grad"]["imag"]["values"] == w_full["grad"]["imag"]["values"]


VMAP = """import torch
from torch.func import vmap, grad
w = torch.tensor([0.5, -1.0, 2.0])
def loss(w, x):
    return (w * x).sin().sum()
xs = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.25, -1.0]])
g = vmap(grad(loss), in_dims=(None, 0))(w, xs)
"""


def test_inside_vmap_grad_every_sample_is_shown_and_no_grad_is_claimed():
    t = trace(VMAP, seed=0)
    Trace.model_validate(t)
    plain = run_plain(VMAP, seed=0).namespace
    w, xs = plain["w"], plain["xs"]
    mul = next(s for s in t["forward"] if s["op"] == "mul")
    assert mul["transform"] == "vmap(grad)" and mul["values"][0]["vmap"] == 2
    assert torch.allclose(decode(mul["values"][0]), (w * xs).double())
    (p,) = t["backward"]
    assert p["transform"] == "vmap(grad)"
    last = p["steps"][-1]["grad_inputs"][0]
    assert torch.allclose(decode(last), plain["g"].double())  # what MulBackward0 sent is each sample's gradient
    assert all(x["grad"] is None for x in t["tensors"])  # torch.func.grad fills no .grad, and the trace says none


def test_gradcheck_says_how_many_backward_calls_and_which_tolerances():
    code = """import torch
from torch.autograd import gradcheck
x = torch.randn(3, dtype=torch.double, requires_grad=True)
ok = gradcheck(torch.sin, (x,), eps=1e-6, atol=1e-5)
"""
    calls, depth = [], [0]
    original = torch.autograd.grad

    def counting(*a, **k):  # outermost calls only: a torch function mode may hand the call back to this wrapper
        if not depth[0]:
            calls.append(1)
        depth[0] += 1
        try:
            return original(*a, **k)
        finally:
            depth[0] -= 1

    t = trace(code, seed=0)
    step = next(s for s in t["forward"] if s["op"] == "gradcheck")
    torch.autograd.grad = counting
    try:
        from torch.autograd import gradcheck
        assert gradcheck(torch.sin, (torch.randn(3, dtype=torch.double, requires_grad=True),), eps=1e-6, atol=1e-5)
    finally:
        torch.autograd.grad = original
    assert step["result"] == "True"
    assert step["check"] == {"backward_calls": len(calls), "eps": 1e-6, "atol": 1e-5, "rtol": 1e-3, "fast_mode": False}
    assert len(calls) > 1
