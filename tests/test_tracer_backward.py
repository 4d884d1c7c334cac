"""Backward passes: engine order, accumulation, VJP, hooks, retain_grad, failures of a pass."""
import torch

from oracle import compare, run_plain
from tracer_helpers import line_of, node, node_of, order, run, src, steps_of, var, vals

APPLE_TANGERINE = """
import torch
apple = torch.tensor([100.], requires_grad=True)
tangerine = torch.tensor([150.], requires_grad=True)
num_apple = torch.tensor([2.], requires_grad=True)
num_tangerine = torch.tensor([3.], requires_grad=True)
ctax = torch.tensor([1.1], requires_grad=True)
apple_price = apple * num_apple
tangerine_price = tangerine * num_tangerine
price = apple_price + tangerine_price
result = price * ctax
result.backward(torch.ones(1))
"""


def _agrees(code: str, t: dict) -> None:
    problems = compare(t, run_plain(src(code)))
    assert not problems, "\n".join(problems)


def test_engine_order_on_a_branching_graph_is_the_real_one():
    t = run(APPLE_TANGERINE)
    _agrees(APPLE_TANGERINE, t)  # same node order as prehooks in plain torch
    steps = t["backward"][0]["steps"]
    names = order(t)
    assert len(steps) == 9 and names.count("torch::autograd::AccumulateGrad") == 5
    assert [node(t, s["node"])["tensor"] for s in steps][0] == var(t, "result")["id"]
    # every node runs only after all nodes that send it a gradient (a valid topological order) ...
    pos = {s["node"]: i for i, s in enumerate(steps)}
    for n in t["nodes"]:
        for child, _ in n["next"]:
            if child in pos and n["id"] in pos:
                assert pos[n["id"]] < pos[child]
    # ... and the engine takes the branch created last first: tangerine before apple (plain torch agrees above)
    muls = [node(t, s["node"])["tensor"] for s in steps if node(t, s["node"])["name"] == "MulBackward0"]
    assert muls == [var(t, "result")["id"], var(t, "tangerine_price")["id"], var(t, "apple_price")["id"]]
    # the gradients each node received and sent
    add = steps_of(t, 0, "AddBackward0")[0]
    assert vals(add["grad_outputs"][0]) == [1.100000023841858]
    assert [vals(g) for g in add["grad_inputs"]] == [[1.100000023841858]] * 2
    tang = steps[[i for i, s in enumerate(steps) if node(t, s["node"])["tensor"] == var(t, "tangerine_price")["id"]][0]]
    assert [round(vals(g)[0], 3) for g in tang["grad_inputs"]] == [3.3, 165.0]


ACCUMULATE = """
import torch
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
out.backward(torch.ones_like(out), retain_graph=True)
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
"""


def test_accumulation_over_repeated_backward_and_zero_grad():
    t = run(ACCUMULATE)
    _agrees(ACCUMULATE, t)
    inp = var(t, "inp")["id"]
    first = torch.tensor([[4.0 if i == j else 2.0 for j in range(5)] for i in range(4)])
    after = [torch.tensor(p["grads_after"][inp]["values"]) for p in t["backward"]]
    assert [p["retain_graph"] for p in t["backward"]] == [True, True, True]
    assert torch.equal(after[0], first)
    assert torch.equal(after[1], 2 * first)   # accumulated, not replaced
    assert torch.equal(after[2], first)       # zeroed in between
    zero = next(s for s in t["forward"] if s["op"] == "zero_")
    assert zero["line"] == line_of(ACCUMULATE, "zero_()")
    assert zero["grad_changes"] == {inp: {"shape": [4, 5], "values": [[0.0] * 5] * 4,
                                          "min": 0.0, "max": 0.0, "mean": 0.0, "sum": 0.0}}
    assert zero["inputs"] == zero["outputs"] and zero["kind"] == "inplace"
    # the AccumulateGrad step shows the leaf's .grad after it ran (the running total)
    acc = [steps_of(t, i, "torch::autograd::AccumulateGrad")[0] for i in range(3)]
    assert [vals(s["tensor_grad"])[0][0] for s in acc] == [4.0, 8.0, 4.0]
    assert [vals(s["grad_outputs"][0])[0][0] for s in acc] == [4.0, 4.0, 4.0]


def test_vjp_with_a_gradient_vector():
    code = """
    import torch
    from torch.autograd import Variable
    x = Variable(torch.ones(3), requires_grad=True)
    y = x ** 2
    z = y * 3
    grad = torch.Tensor([0.1, 1, 10])
    z.backward(grad)
    """
    t = run(code)
    _agrees(code, t)
    p = t["backward"][0]
    assert p["root"] == var(t, "z")["id"]
    assert [round(v, 4) for v in vals(p["gradient"])] == [0.1, 1.0, 10.0]
    assert vals(p["steps"][0]["grad_outputs"][0]) == vals(p["gradient"])   # the root receives v
    assert [round(v, 4) for v in vals(var(t, "x")["grad"])] == [0.6, 6.0, 60.0]
    scalar = run("import torch\nx = torch.ones(2, requires_grad=True)\nx.sum().backward()\n")
    assert scalar["backward"][0]["gradient"] is None     # implicit 1


def test_a_hook_that_changes_a_gradient():
    code = """
    import torch
    def modify_grad(grad):
        print("hook saw", grad)
        return -grad
    a = torch.tensor((1., 2., 3.), requires_grad=True)
    b = torch.tensor((2., 4., 6.), requires_grad=True)
    c = a * b
    d = c ** 2
    d.register_hook(modify_grad)
    e = torch.sum(d)
    e.backward()
    """
    t = run(code)
    _agrees(code, t)  # includes a.grad = -2cb, b.grad = -2ca and the printed line
    pow_step = steps_of(t, 0, "PowBackward0")[0]
    assert vals(pow_step["grad_outputs"][0]) == [-1.0, -1.0, -1.0]   # after the hook
    (hook,) = pow_step["hooks"]
    assert hook["tensor"] == var(t, "d")["id"]
    assert vals(hook["grad_in"]) == [1.0, 1.0, 1.0] and vals(hook["grad_out"]) == [-1.0, -1.0, -1.0]
    assert vals(var(t, "a")["grad"]) == [-8.0, -64.0, -216.0]
    assert "hook saw tensor([1., 1., 1.])" in t["stdout"]
    assert next(s for s in t["forward"] if s["op"] == "register_hook")["inputs"] == [var(t, "d")["id"]]


def test_hook_on_a_leaf_and_a_hook_that_returns_none():
    code = """
    import torch
    a = torch.tensor([1., 2.], requires_grad=True)
    a.register_hook(lambda g: g * 2)
    b = a * 3
    b.register_hook(lambda g: print("b.grad is", g))
    b.sum().backward()
    """
    t = run(code)
    _agrees(code, t)
    assert vals(var(t, "a")["grad"]) == [6.0, 6.0]
    acc = steps_of(t, 0, "torch::autograd::AccumulateGrad")[0]
    assert vals(acc["grad_outputs"][0]) == [6.0, 6.0]
    assert vals(acc["hooks"][0]["grad_in"]) == [3.0, 3.0] and vals(acc["hooks"][0]["grad_out"]) == [6.0, 6.0]
    mul = steps_of(t, 0, "MulBackward0")[0]
    assert mul["hooks"][0]["grad_out"] is None      # returned None: gradient unchanged
    assert vals(mul["grad_outputs"][0]) == [1.0, 1.0]


def test_retain_grad_keeps_an_intermediate_gradient():
    code = """
    import torch
    a = torch.tensor((1., 2., 3.), requires_grad=True)
    c = a * 2
    d = c ** 2
    d.retain_grad()
    e = torch.sum(d)
    e.backward()
    """
    t = run(code)
    _agrees(code, t)
    d, c = var(t, "d"), var(t, "c")
    assert d["retains_grad"] and vals(d["grad"]) == [1.0, 1.0, 1.0]
    assert not c["retains_grad"] and c["grad"] is None
    assert t["backward"][0]["grads_after"][d["id"]]["values"] == [1.0, 1.0, 1.0]
    annotate = next(s for s in t["forward"] if s["op"] == "retain_grad")
    assert annotate["inputs"] == [d["id"]] and annotate["kind"] == "annotate"
    assert vals(steps_of(t, 0, "PowBackward0")[0]["tensor_grad"]) == [1.0, 1.0, 1.0]


def test_second_backward_without_retain_graph_fails_in_its_pass():
    code = """
    import torch
    a = torch.tensor([1., 2.], requires_grad=True)
    e = (a * a).sum()
    e.backward()
    e.backward()
    print("never")
    """
    t = run(code)
    _agrees(code, t)
    assert t["status"] == "error"
    assert t["error"]["type"] == "RuntimeError" and "second time" in t["error"]["message"]
    assert t["error"]["line"] == 5
    first, second = t["backward"]
    assert first["error"] is None and len(first["steps"]) == 3
    assert second["error"]["type"] == "RuntimeError" and second["error"]["line"] == 5
    assert second["line"] == 5 and second["retain_graph"] is False
    assert vals(var(t, "a")["grad"]) == [2.0, 4.0]    # the first pass's result is kept
    assert "never" not in t["stdout"]


def test_saved_tensors_survive_a_backward_that_frees_them():
    code = """
    import torch
    a = torch.tensor((1., 2., 3.), requires_grad=True)
    c = a * 2
    d = c ** 2
    e = d.sum()
    e.backward()
    """
    t = run(code)
    plain = run_plain(src(code))
    try:  # plain torch has freed what PowBackward0 saved ...
        _ = plain.namespace["d"].grad_fn._saved_self  # raises once backward freed it
        freed = False
    except RuntimeError:
        freed = True
    assert freed
    pow_node = node_of(t, "d")       # ... the trace captured it before
    saved = {s["name"]: s for s in pow_node["saved"]}
    assert vals(saved["self"]["values"]) == [2.0, 4.0, 6.0]
    assert saved["self"]["tensor"] == var(t, "c")["id"]
    assert vals(saved["exponent"]["values"]) == 2
    mul = node_of(t, "c")
    assert {s["name"] for s in mul["saved"]} >= {"other"}   # the scalar 2


def test_autograd_grad_and_create_graph():
    code = """
    import torch
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    dy_dx, = torch.autograd.grad(y, x, create_graph=True)
    d2y_dx2, = torch.autograd.grad(dy_dx, x)
    """
    t = run(code)
    _agrees(code, t)
    first, second = t["backward"]
    assert first["call"] == "grad" and first["create_graph"] and first["retain_graph"]
    assert first["inputs"] == [var(t, "x")["id"]] and first["results"] == [var(t, "dy_dx")["id"]]
    assert second["create_graph"] is False and second["root"] == var(t, "dy_dx")["id"]
    assert vals(var(t, "dy_dx")["data"]) == 12.0 and vals(var(t, "d2y_dx2")["data"]) == 12.0
    dy = var(t, "dy_dx")
    assert dy["requires_grad"] and dy["grad_fn"] is not None      # the derivative has a graph of its own
    assert node(t, dy["grad_fn"])["line"] == 4
    assert var(t, "x")["grad"] is None                              # autograd.grad leaves .grad alone
    assert [node(t, s["node"])["name"] for s in second["steps"]][-1] == "PowBackward0"


def test_backward_with_inputs_and_autograd_backward():
    code = """
    import torch
    a = torch.tensor([1., 2.], requires_grad=True)
    b = torch.tensor([3., 4.], requires_grad=True)
    y = (a * b).sum()
    torch.autograd.backward([y], inputs=[a])
    """
    t = run(code)
    _agrees(code, t)
    p = t["backward"][0]
    assert p["call"] == "backward" and p["inputs"] == [var(t, "a")["id"]]
    assert vals(var(t, "a")["grad"]) == [3.0, 4.0] and var(t, "b")["grad"] is None
