"""The program as a whole: errors and partial traces, names, printed output, values, size, determinism."""
import json
import math

import torch

from oracle import compare, run_plain
from tracer_helpers import named, ops, run, src, var, vals

from gradtrace.tracer import trace


def _agrees(code: str, t: dict) -> None:
    problems = compare(t, run_plain(src(code)))
    assert not problems, "\n".join(problems)


# --- errors ---

def test_syntax_error_has_kind_and_line_and_nothing_ran():
    code = "import torch\nx = torch.ones(2)\ny = (x * 2\nprint('ran')\n"
    t = run(code)
    assert t["status"] == "error"
    err = t["error"]
    assert err["kind"] == "syntax" and err["type"] == "SyntaxError"
    try:
        compile(code, "<p>", "exec")
    except SyntaxError as exc:
        assert err["line"] == exc.lineno and err["message"] == exc.msg
    assert t["forward"] == [] and t["tensors"] == [] and t["stdout"] == ""


def test_name_error_keeps_the_partial_trace():
    code = """
    import torch
    a = torch.tensor([1., 2.], requires_grad=True)
    b = a * 3
    print("before")
    c = b * undefined_name
    print("after")
    """
    t = run(code)
    _agrees(code, t)
    assert t["status"] == "error"
    assert t["error"] == {"kind": "runtime", "type": "NameError",
                          "message": "name 'undefined_name' is not defined", "line": 5}
    assert ops(t) == ["tensor", "mul"]
    assert set(t["variables"]) == {"a", "b"} and var(t, "b")["grad_fn"] is not None
    assert t["nodes"] and t["stdout"] == "before\n"


def test_runtime_error_after_a_backward_keeps_the_pass():
    code = """
    import torch
    a = torch.ones(2, 3, requires_grad=True)
    loss = (a * 2).sum()
    loss.backward()
    bad = a @ a
    """
    t = run(code)
    _agrees(code, t)
    assert t["error"]["type"] == "RuntimeError" and t["error"]["line"] == 5
    assert "mat1 and mat2 shapes cannot be multiplied" in t["error"]["message"]
    assert len(t["backward"]) == 1 and t["backward"][0]["error"] is None
    assert vals(var(t, "a")["grad"]) == [[2.0] * 3] * 2
    assert "bad" not in t["variables"]


def test_error_inside_a_function_points_at_the_innermost_user_line():
    code = """
    import torch
    def f(x):
        y = x * 2
        return y.view(5)
    a = torch.ones(4, requires_grad=True)
    b = f(a)
    """
    t = run(code)
    _agrees(code, t)
    assert t["error"]["line"] == 4 and t["error"]["type"] == "RuntimeError"
    assert ops(t) == ["ones", "mul"]


def test_error_inside_a_custom_backward():
    code = """
    import torch
    class Bad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2
        @staticmethod
        def backward(ctx, g):
            print("in backward")
            raise ValueError("no gradient today")
    x = torch.ones(2, requires_grad=True)
    Bad.apply(x).sum().backward()
    """
    t = run(code)
    _agrees(code, t)
    assert t["error"]["type"] == "ValueError" and t["error"]["line"] == 9
    p = t["backward"][0]
    assert p["error"]["type"] == "ValueError" and p["line"] == 11
    assert [s["node"] for s in p["steps"]][:2] and "in backward" in t["stdout"]


def test_exception_caught_by_the_program_is_not_an_error():
    code = """
    import torch
    x = torch.ones(2)
    try:
        x.backward()
    except RuntimeError as exc:
        print("caught", type(exc).__name__)
    """
    t = run(code)
    _agrees(code, t)
    assert t["status"] == "ok" and t["error"] is None
    assert t["backward"][0]["error"]["type"] == "RuntimeError"
    assert t["stdout"] == "caught RuntimeError\n"


# --- names ---

def test_rebinding_in_a_loop_gives_several_tensors_of_one_name():
    code = """
    import torch
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    for i in range(3):
        y = y * 2
    z, w = y.split(2)
    y.sum().backward()
    """
    t = run(code)
    _agrees(code, t)
    ys = named(t, "y")
    assert len(ys) == 4
    assert t["variables"]["y"] == ys[-1]["id"]                         # the final binding
    assert [vals(v["data"])[0] for v in ys] == [2.0, 4.0, 8.0, 16.0]
    assert [named(t, n)[0]["shape"] for n in ("z", "w")] == [[2], [1]]  # tuple unpacking names both
    assert "i" not in t["variables"]                                   # not a tensor
    unnamed = [x for x in t["tensors"] if x["name"] is None]
    assert all(x["id"] not in t["variables"].values() for x in unnamed)
    assert vals(var(t, "x")["grad"]) == [16.0, 16.0, 16.0]


def test_names_from_attributes_and_grads():
    code = """
    import torch
    a = torch.ones(2, requires_grad=True)
    (a * 3).sum().backward()
    g = a.grad
    """
    t = run(code)
    _agrees(code, t)
    g = var(t, "g")
    assert g["name"] == "a.grad" and g["grad_of"] == var(t, "a")["id"]
    assert t["forward"][-1] == {**t["forward"][-1], "op": "grad", "inputs": [var(t, "a")["id"]],
                                "outputs": [g["id"]], "kind": "alias", "line": 4}


# --- printed output ---

def test_stdout_includes_prints_in_hooks_and_custom_backward_in_order():
    code = """
    import torch
    class Twice(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            print("forward")
            return x * 2
        @staticmethod
        def backward(ctx, g):
            print("custom backward", g.tolist())
            return g * 2
    x = torch.ones(2, requires_grad=True)
    y = Twice.apply(x)
    y.register_hook(lambda g: print("hook", g.tolist()))
    print("before backward")
    y.sum().backward()
    print("after", x.grad.tolist())
    """
    t = run(code)
    _agrees(code, t)
    assert t["stdout"] == ("forward\nbefore backward\nhook [1.0, 1.0]\n"
                           "custom backward [1.0, 1.0]\nafter [2.0, 2.0]\n")


def test_stdout_is_cut_at_the_limit():
    from gradtrace.tracer import Limits, trace
    t = trace("for i in range(1000):\n    print('x' * 100)\n", limits=Limits(max_stdout_chars=500))
    assert t["stdout"].startswith("x" * 100) and len(t["stdout"]) < 700 and "more characters cut" in t["stdout"]


# --- values ---

def test_a_big_tensor_is_summarised_and_the_trace_stays_small():
    code = """
    import torch
    x = torch.randn(1000, 1000, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    """
    t = run(code)
    _agrees(code, t)   # the summaries match plain torch
    size = len(json.dumps(t))
    assert size < 100_000, size
    x = var(t, "x")
    assert x["data"]["values"] is None and x["data"]["shape"] == [1000, 1000]
    torch.manual_seed(0)
    plain = torch.randn(1000, 1000)
    assert math.isclose(x["data"]["mean"], plain.double().mean().item(), rel_tol=1e-9)
    assert math.isclose(x["data"]["max"], plain.max().item(), rel_tol=1e-6)
    assert x["grad"]["values"] is None and x["grad"]["min"] == x["grad"]["max"] == 2.0
    assert x["grad"]["sum"] == 2_000_000.0
    assert vals(var(t, "y")["data"]) is not None    # a scalar is small: sent whole


def test_nan_and_inf_are_strings():
    code = """
    import torch
    x = torch.tensor([1., float('nan'), float('inf'), -float('inf')], requires_grad=True)
    y = x * 2
    y.sum().backward()
    big = torch.full((300,), float('inf'))
    """
    t = run(code)
    _agrees(code, t)
    text = json.dumps(t, allow_nan=False)         # strict JSON: no NaN/Infinity literals
    assert '"nan"' in text
    assert vals(var(t, "x")["data"]) == [1.0, "nan", "inf", "-inf"]
    assert vals(var(t, "y")["data"]) == [2.0, "nan", "inf", "-inf"]
    x_data = var(t, "x")["data"]
    assert x_data["min"] == x_data["max"] == x_data["mean"] == x_data["sum"] == "nan"   # torch: NaN wins
    assert vals(t["backward"][0]["steps"][1]["grad_inputs"][0]) == [2.0, 2.0, 2.0, 2.0]
    big = var(t, "big")["data"]
    assert big["values"] is None and big["min"] == big["max"] == big["sum"] == "inf"


def test_small_tensors_are_sent_whole_with_dtype_and_shape():
    code = """
    import torch
    i = torch.arange(6).reshape(2, 3)
    b = i > 2
    h = torch.ones(2, dtype=torch.float64)
    e = torch.zeros(0)
    """
    t = run(code)
    _agrees(code, t)
    assert (var(t, "i")["dtype"], vals(var(t, "i")["data"])) == ("int64", [[0, 1, 2], [3, 4, 5]])
    b = var(t, "b")["data"]
    assert var(t, "b")["dtype"] == "bool" and b["values"] == [[0, 0, 0], [1, 1, 1]] and b["sum"] == 3
    assert var(t, "h")["dtype"] == "float64"
    e = var(t, "e")["data"]
    assert e["shape"] == [0] and e["values"] == [] and e["min"] is None and e["sum"] is None


# --- determinism and isolation ---

def test_same_code_and_seed_give_the_same_trace():
    code = """
    import torch
    x = torch.randn(3, requires_grad=True)
    y = torch.nn.Linear(3, 2)(x).relu().sum()
    y.backward()
    print(x.grad)
    """
    a = json.dumps(run(code, seed=3), sort_keys=True)
    b = json.dumps(run(code, seed=3), sort_keys=True)
    c = json.dumps(run(code, seed=4), sort_keys=True)
    assert a == b
    assert a != c
    t = run(code, seed=3)
    problems = compare(t, run_plain(src(code), seed=3))
    assert not problems, problems


def test_a_trace_leaves_torch_as_it_found_it():
    original = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad,
                torch.autograd.Variable, torch.autograd.gradcheck, torch.autograd.Function.apply)
    t = run("""
    import torch
    torch.set_grad_enabled(False)
    torch.set_default_dtype(torch.float64)
    x = torch.ones(2)
    """)
    assert t["status"] == "ok"
    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32
    assert (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad,
            torch.autograd.Variable, torch.autograd.gradcheck, torch.autograd.Function.apply) == original
    y = torch.ones(2, requires_grad=True)
    (y * 2).sum().backward()          # plain torch still works, nothing recorded anywhere
    assert y.grad.tolist() == [2.0, 2.0]


def test_a_step_limit_degrades_recording_and_the_program_runs_to_its_end():
    from gradtrace.tracer import Limits, trace
    code = src("""
    import torch
    x = torch.ones(1, requires_grad=True)
    y = x
    for i in range(100):
        y = y * 1.01
    y.backward()
    print(float(x.grad))
    """)
    t = trace(code, limits=Limits(max_steps=50, loop_full_iterations=1000))  # no folding: the limit itself
    x = torch.ones(1, requires_grad=True)
    y = x
    for _ in range(100):
        y = y * 1.01
    y.backward()
    assert t["status"] == "ok" and t["error"] is None
    assert len(t["forward"]) == 50
    assert t["omitted"]["forward_steps"] == 51 and t["omitted"]["backward_passes"] == 1    # 50 muls + float(), 1 pass
    assert "50 tensor operations" in t["omitted"]["reason"]
    assert t["stdout"] == f"{float(x.grad)}\n"                                          # printed after the limit
    tensors = {r["id"]: r for r in t["tensors"]}
    final_y, final_grad = tensors[t["variables"]["y"]], tensors[t["variables"]["x"]]["grad"]
    assert abs(final_y["data"]["values"][0] - float(y)) < 1e-5                           # the final state is complete
    assert abs(final_grad["values"][0] - float(x.grad)) < 1e-4


def test_printed_grad_fn_names_its_node_and_is_stable():
    code = ("import torch\na = torch.ones(2, requires_grad=True)\nb = a * 2\nc = b.sum()\n"
            "print(b.grad_fn, c.grad_fn)\nprint(b.grad_fn)\ndef f():\n    pass\nprint(f)\n")
    t = trace(code)
    nodes = {n["id"]: n for n in t["nodes"]}
    tensors = {x["name"]: x for x in t["tensors"]}
    first, second, third = t["stdout"].splitlines()
    assert first == f"<MulBackward0 object at {tensors['b']['grad_fn']}> <SumBackward0 object at {tensors['c']['grad_fn']}>"
    assert second == f"<MulBackward0 object at {tensors['b']['grad_fn']}>"
    assert nodes[tensors["b"]["grad_fn"]]["name"] == "MulBackward0"
    assert third == "<function f at 0x1>"  # other addresses: stable labels in order of appearance
    assert trace(code) == t
