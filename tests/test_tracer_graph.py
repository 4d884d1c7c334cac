"""Forward steps and the autograd graph: cuts, custom Functions, views, multi-output ops, nn.Modules."""
import torch

from oracle import compare, run_plain
from tracer_helpers import line_of, node, node_of, ops, order, run, src, steps_of, var, vals


def _agrees(code: str, t: dict) -> None:
    problems = compare(t, run_plain(src(code)))
    assert not problems, "\n".join(problems)


def test_detach_cuts_the_graph():
    code = """
    import torch
    x = torch.tensor([1., 2.], requires_grad=True)
    y = x * 2
    z = y.detach() * 3
    w = (z + y).sum()
    w.backward()
    """
    t = run(code)
    _agrees(code, t)
    detach = next(s for s in t["forward"] if s["op"] == "detach")
    assert detach["node"] is None and detach["inputs"] == [var(t, "y")["id"]]
    cut = detach["outputs"][0]
    assert next(x for x in t["tensors"] if x["id"] == cut)["requires_grad"] is False
    z = var(t, "z")
    assert z["grad_fn"] is None and not z["requires_grad"]
    add = node(t, node_of(t, "w")["next"][0][0])
    assert add["name"] == "AddBackward0"
    assert add["next"][0] == [None, 0]                      # no edge back through z
    assert node(t, add["next"][1][0])["tensor"] == var(t, "y")["id"]
    assert vals(var(t, "x")["grad"]) == [2.0, 2.0]            # only the path through y


def test_no_grad_records_no_nodes_and_inplace_under_no_grad_keeps_grad_fn():
    code = """
    import torch
    a = torch.tensor((1., 2., 3.), requires_grad=True)
    c = a * 2
    d = c ** 2
    with torch.no_grad():
        e = d * 10
        d.mul_(2)
    f = d.sum()
    f.backward()
    """
    t = run(code)
    _agrees(code, t)
    mul10, mul_ = t["forward"][3], t["forward"][4]
    assert (mul10["op"], mul_["op"]) == ("mul", "mul_")
    for s in (mul10, mul_):
        assert s["grad_enabled"] is False and s["node"] is None
    assert var(t, "e")["grad_fn"] is None and not var(t, "e")["requires_grad"]
    assert mul_["outputs"] == [var(t, "d")["id"]] and mul_["kind"] == "inplace"
    assert vals(mul_["values"][0]) == [8.0, 32.0, 72.0]            # the change is visible at that step
    pow_step = next(s for s in t["forward"] if s["op"] == "pow")
    assert vals(pow_step["values"][0]) == [4.0, 16.0, 36.0]        # ... and the earlier step kept the old values
    assert node_of(t, "d")["name"] == "PowBackward0"               # not recorded: grad_fn unchanged
    assert vals(var(t, "a")["grad"]) == [8.0, 16.0, 24.0]          # PowBackward0 saved c, not d
    assert all(s["grad_enabled"] for s in t["forward"] if s["line"] not in (5, 6, 7))


def test_custom_function_with_save_for_backward():
    code = """
    import torch
    class Mul2(torch.autograd.Function):
        @staticmethod
        def forward(ctx, i, j):
            result = i * j
            ctx.save_for_backward(i, j)
            ctx.note = "product"
            ctx.scale = 1.5
            return result

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            print("backward got", grad_output)
            return y * grad_output, x * grad_output

    x = torch.tensor([1., 2.], requires_grad=True)
    y2 = torch.tensor([3., 4.], requires_grad=True)
    t = Mul2.apply(x, y2)
    t.backward(torch.ones_like(t))
    """
    t = run(code)
    _agrees(code, t)
    n = node_of(t, "t")
    assert n["name"] == "Mul2Backward" and n["kind"] == "custom"
    assert n["line"] == line_of(code, "Mul2.apply")
    saved = {s["name"]: s for s in n["saved"]}
    assert vals(saved["saved_tensors[0]"]["values"]) == [1.0, 2.0]
    assert saved["saved_tensors[0]"]["tensor"] == var(t, "x")["id"]
    assert saved["saved_tensors[1]"]["tensor"] == var(t, "y2")["id"]
    assert saved["ctx.note"]["repr"] == "'product'"
    assert vals(saved["ctx.scale"]["values"]) == 1.5
    step = next(s for s in t["forward"] if s["op"] == "Mul2")
    assert step["kind"] == "custom" and step["node"] == n["id"]
    assert step["inputs"] == [var(t, "x")["id"], var(t, "y2")["id"]] and step["outputs"] == [var(t, "t")["id"]]
    assert "mul" not in ops(t)                        # the forward's own ops are inside the one step
    assert order(t) == ["Mul2Backward"] + ["torch::autograd::AccumulateGrad"] * 2
    assert [vals(g) for g in t["backward"][0]["steps"][0]["grad_inputs"]] == [[3.0, 4.0], [1.0, 2.0]]
    assert "backward got tensor([1., 1.])" in t["stdout"]


def test_custom_function_with_ctx_attributes():
    code = """
    import torch
    class custom_function(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.x = x
            ctx.y = y
            return x * y

        @staticmethod
        def backward(ctx, grad_output):
            return -ctx.x * grad_output, -ctx.y * grad_output

    a = torch.tensor((1., 2., 3.), requires_grad=True)
    b = torch.tensor((2., 4., 6.), requires_grad=True)
    c = custom_function.apply(a, b)
    torch.sum(c).backward()
    """
    t = run(code)
    _agrees(code, t)
    n = node_of(t, "c")
    assert n["name"] == "custom_functionBackward" and n["kind"] == "custom"
    saved = {s["name"]: s for s in n["saved"]}
    assert saved["ctx.x"]["tensor"] == var(t, "a")["id"] and vals(saved["ctx.x"]["values"]) == [1.0, 2.0, 3.0]
    assert saved["ctx.y"]["tensor"] == var(t, "b")["id"]
    assert vals(var(t, "a")["grad"]) == [-1.0, -2.0, -3.0]


def test_inplace_on_a_view_gives_copyslices():
    code = """
    import torch
    x = torch.ones(2, 3, requires_grad=True)
    y = x * 2
    row = y[0]
    row.mul_(10)
    loss = y.sum()
    loss.backward()
    """
    t = run(code)
    _agrees(code, t)
    y = var(t, "y")
    copy = node_of(t, "y")
    assert copy["name"] == "torch::autograd::CopySlices" and copy["tensor"] == y["id"]
    assert copy["line"] == line_of(code, "row.mul_")
    step = next(s for s in t["forward"] if s["op"] == "mul_")
    assert step["outputs"] == [var(t, "row")["id"], y["id"]]
    assert vals(step["values"][1]) == [[20.0] * 3, [2.0] * 3]      # the base changed at that step
    assert vals(var(t, "x")["grad"]) == [[20.0] * 3, [2.0] * 3]
    assert "torch::autograd::CopySlices" in order(t)


def test_multi_output_ops():
    code = """
    import torch
    x = torch.tensor([[1., 5., 2., 0.], [4., 3., 6., 1.]], requires_grad=True)
    left, right = x.split(2, dim=1)
    values, indices = x.max(dim=1)
    loss = (left * right).sum() + values.sum()
    loss.backward()
    """
    t = run(code)
    _agrees(code, t)
    split = next(s for s in t["forward"] if s["op"] == "split")
    assert split["outputs"] == [var(t, "left")["id"], var(t, "right")["id"]]
    assert var(t, "left")["grad_fn"] == var(t, "right")["grad_fn"] == split["node"]
    assert node(t, split["node"])["name"] == "SplitBackward0"
    mx = next(s for s in t["forward"] if s["op"] == "max")
    assert mx["outputs"] == [var(t, "values")["id"], var(t, "indices")["id"]]
    assert var(t, "indices")["dtype"] == "int64" and not var(t, "indices")["requires_grad"]
    assert vals(var(t, "indices")["data"]) == [1, 2]
    split_step = steps_of(t, 0, "SplitBackward0")[0]
    assert len(split_step["grad_outputs"]) == 2                  # one gradient per output
    mul = node_of(t, "loss")
    assert mul["name"] == "AddBackward0"


def test_nn_module_paths_and_parameter_names():
    code = """
    import torch
    import torch.nn as nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 3)
            self.fc2 = nn.Linear(3, 1)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    prediction = model(torch.ones(4, 2))
    loss = nn.functional.mse_loss(prediction, torch.zeros(4, 1))
    loss.backward()
    optimizer.step()
    """
    t = run(code)
    _agrees(code, t)
    linear = [s for s in t["forward"] if s["op"] == "linear"]
    assert [s["module"] for s in linear] == ["model.fc1", "model.fc2"]
    assert next(s for s in t["forward"] if s["op"] == "relu")["module"] == "model"
    names = {x["name"] for x in t["tensors"] if x["name"]}
    assert {"model.fc1.weight", "model.fc1.bias", "model.fc2.weight", "model.fc2.bias"} <= names
    assert linear[0]["inputs"][1:] == [x["id"] for x in t["tensors"] if x["name"] in ("model.fc1.weight", "model.fc1.bias")]
    # parameter initialisation inside nn.Linear is not part of the lesson
    assert ops(t)[:1] == ["ones"] and "kaiming_uniform_" not in ops(t) and "uniform_" not in ops(t)
    # optimizer.step(): in-place updates under no_grad, tagged as the optimizer's
    updates = [s for s in t["forward"] if s["kind"] == "optim"]
    assert len(updates) == 4 and all(not s["grad_enabled"] and s["node"] is None for s in updates)
    assert all(s["line"] == line_of(code, "optimizer.step()") for s in updates)
    # the parameters' final values are the updated ones, as in plain torch
    plain = run_plain(src(code)).namespace["model"]
    for pname, param in plain.named_parameters():
        traced = next(x for x in t["tensors"] if x["name"] == f"model.{pname}")
        assert torch.allclose(torch.tensor(vals(traced["data"])), param.detach()), pname
        assert torch.allclose(torch.tensor(vals(traced["grad"])), param.grad), pname
        update = next(s for s in updates if traced["id"] in s["outputs"])
        assert torch.allclose(torch.tensor(vals(update["values"][0])), param.detach())


def test_nn_sequential_names():
    code = """
    import torch
    import torch.nn as nn
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    out = net(torch.ones(1, 2))
    """
    t = run(code)
    _agrees(code, t)
    assert [s["module"] for s in t["forward"] if s["op"] in ("linear", "relu")] == ["net.0", "net.1", "net.2"]
    assert {"net.0.weight", "net.2.bias"} <= {x["name"] for x in t["tensors"]}


def test_internal_nodes_of_one_call_get_its_line():
    code = """
    import torch
    x = torch.ones(5)
    w = torch.randn(5, 3, requires_grad=True)
    z = torch.matmul(x, w)
    """
    t = run(code)
    assert {n["name"]: n["line"] for n in t["nodes"] if n["kind"] == "op"} == {"SqueezeBackward4": 4, "MmBackward0": 4}


def test_legacy_variable_and_torch_Tensor():
    code = """
    import torch
    from torch.autograd import Variable
    a = Variable(torch.ones(2, 2), requires_grad=True)
    g = torch.Tensor([0.1, 1, 10])
    out = (a * 2).sum()
    out.backward()
    print(isinstance(a, Variable), type(a).__name__)
    """
    t = run(code)
    _agrees(code, t)
    step = next(s for s in t["forward"] if s["op"] == "Variable")
    assert step["outputs"] == [var(t, "a")["id"]]
    assert var(t, "a")["is_leaf"] and var(t, "a")["requires_grad"]
    assert var(t, "g")["dtype"] == "float32"
    assert t["stdout"] == "True Tensor\n"


def test_numpy_on_a_tensor():
    code = """
    import numpy as np
    import torch
    x = torch.tensor([0., 1.])
    s = 1 / (1 + np.exp(-x))
    """
    t = run(code)
    _agrees(code, t)
    assert ops(t) == ["tensor", "neg", "numpy", "add", "div"]
    np_step = t["forward"][2]
    assert np_step["inputs"] == t["forward"][1]["outputs"] and np_step["line"] == 4
