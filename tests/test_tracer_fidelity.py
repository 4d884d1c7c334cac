"""Fidelity gaps real programs hit (issue 10), each held against a plain torch run of the same program."""
import torch
from oracle import compare, run_plain
from tracer_helpers import run, src, var

LEAF_HOOK = src("""
import torch
v = torch.tensor([0., 0., 0.], requires_grad=True)
h = v.register_hook(lambda grad: grad * 2)  # double the gradient
v.backward(torch.tensor([1., 2., 3.]))
print(v.grad)
h.remove()
""")  # the example of torch.Tensor.register_hook's docstring


def test_backward_on_a_leaf_shows_its_accumulategrad_receiving_the_hooked_gradient():
    t = run(LEAF_HOOK)
    plain = run_plain(LEAF_HOOK, 0)
    assert compare(t, plain) == []
    v = var(t, "v")
    (p,) = t["backward"]
    (step,) = p["steps"]
    node = next(n for n in t["nodes"] if n["id"] == step["node"])
    assert node["kind"] == "accumulate" and node["tensor"] == v["id"] and p["root"] == v["id"]
    (hook,) = step["hooks"]
    assert hook["grad_in"]["values"] == [1.0, 2.0, 3.0] and hook["grad_out"]["values"] == [2.0, 4.0, 6.0]
    assert step["tensor_grad"]["values"] == plain.namespace["v"].grad.tolist() == [2.0, 4.0, 6.0]


SAVED_HOOKS = src("""
import torch
storage = {}
def pack(t):
    key = len(storage)
    storage[key] = t.clone()
    print("pack", key)
    return key
def unpack(key):
    print("unpack", key)
    return storage.pop(key)   # a hook that hands its entry back exactly once
x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = (x.sin() * x).sum()
y.backward()
print(x.grad, len(storage))
""")


def test_a_saved_tensor_unpack_hook_runs_once_as_in_plain_torch():
    t = run(SAVED_HOOKS)
    plain = run_plain(SAVED_HOOKS, 0)
    assert t["status"] == "ok" and t["error"] is None
    assert t["stdout"] == plain.stdout and t["stdout"].count("unpack") == plain.stdout.count("unpack") == 3
    assert compare(t, plain) == []
    assert torch.allclose(torch.tensor(var(t, "x")["grad"]["values"]), plain.namespace["x"].grad)
    sin = next(n for n in t["nodes"] if n["name"] == "SinBackward0")
    assert [s["name"] for s in sin["saved"]] == ["self"] and sin["saved"][0]["values"] is None  # never unpacked


VIEWS = src("""
import torch
a = torch.ones(4, requires_grad=True)
b = a * 1
v = b[:2]
b.mul_(3)
y = (v * 2).sum()
y.backward()
w = torch.randn(2, 3, requires_grad=True)
out = torch.nn.functional.linear(torch.ones(1, 3), w).flatten().sum()
out.backward()
""")


def test_nodes_no_step_created_get_a_line():
    t = run(VIEWS)
    plain = run_plain(VIEWS, 0)
    assert compare(t, plain) == []
    ran = {s["node"] for p in t["backward"] for s in p["steps"]}
    lines = {n["name"]: n["line"] for n in t["nodes"] if n["id"] in ran}
    assert lines["AsStridedBackward0"] == 4            # the view b[:2], regenerated after the in-place write
    assert lines["ViewBackward0"] == 9                 # inside flatten: the call's line
    assert all(n["line"] is not None for n in t["nodes"] if n["kind"] != "accumulate")
