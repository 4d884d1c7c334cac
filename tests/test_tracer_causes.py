"""Issue 8's tracer extensions: saved tensors' versions, in-place bumps, Error.cause, warnings placed on their step."""
import torch

from gradtrace.schema import Trace
from gradtrace.tracer import trace


def run(code):
    t = trace(code)
    Trace.model_validate(t)
    return t


def by_name(t, name):
    return next(x for x in t["tensors"] if x["name"] == name)


def test_inplace_error_names_the_saved_tensor_its_versions_and_the_line_that_changed_it():
    code = "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x.exp()\ny += 1\ny.sum().backward()\n"
    t = run(code)
    # plain torch agrees on the versions
    x = torch.tensor([1., 2.], requires_grad=True)
    y = x.exp()
    saved_v = y._version
    y += 1
    assert (saved_v, y._version) == (0, 1)
    cause = t["error"]["cause"]
    assert t["backward"][0]["error"]["cause"] == cause
    node = next(n for n in t["nodes"] if n["id"] == cause["node"])
    assert node["name"] == "ExpBackward0"
    saved = next(s for s in node["saved"] if s["name"] == cause["saved"])
    assert cause["saved"] == "result" and saved["version"] == 0 and saved["tensor"] == by_name(t, "y")["id"]
    assert (cause["saved_version"], cause["current_version"]) == (0, 1)
    assert cause["tensor"] == by_name(t, "y")["id"] and cause["line"] == 4
    assert t["forward"][cause["step"]]["op"] == "add_" and t["forward"][cause["step"]]["bumps"] == [cause["tensor"]]


def test_freed_saved_tensors_name_the_node_and_the_backward_that_freed_them():
    code = "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nL = (w * w).sum()\nL.backward()\nL.backward()\n"
    t = run(code)
    cause = t["error"]["cause"]
    assert cause["kind"] == "freed" and cause["freed_by"] == 0 and cause["line"] == 4
    assert next(n for n in t["nodes"] if n["id"] == cause["node"])["name"] == "MulBackward0"
    assert cause["tensor"] == by_name(t, "w")["id"]
    assert t["backward"][1]["error"]["line"] == 5


def test_a_detached_root_points_at_the_detach():
    code = ("import torch\na = torch.ones(2, requires_grad=True)\nb = a * 2\nc = b.detach()\n"
            "with torch.no_grad():\n    d = b * 3\ntry:\n    c.sum().backward()\nexcept RuntimeError:\n    pass\n(d + 1).sum().backward()\n")
    t = run(code)
    first, second = (p["error"]["cause"] for p in t["backward"])
    assert first["kind"] == "no_grad_fn" and first["why"] == "detach" and first["line"] == 4
    assert second["why"] == "no_grad" and second["line"] == 6


def test_view_inplace_is_recorded_with_its_new_node_and_bumps_base_and_view():
    t = run("import torch\nx = torch.ones(2, 3, requires_grad=True)\ny = x * 2\nrow = y[0]\nrow.mul_(10)\ny.sum().backward()\n")
    step = next(s for s in t["forward"] if s["op"] == "mul_")
    node = next(n for n in t["nodes"] if n["id"] == step["node"])
    assert node["name"] == "AsStridedBackward0"
    assert set(step["bumps"]) == {by_name(t, "row")["id"], by_name(t, "y")["id"]}


def test_warnings_carry_the_users_line_the_tensor_and_where_they_happened():
    code = "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x * 2\ny.sum().backward()\nprint(y.grad)\n"
    t = run(code)
    (w,) = t["warnings"]
    assert "not a leaf" in w["message"] and len(w["message"]) > 500  # not cut
    assert w["line"] == 5 and w["tensor"] == by_name(t, "y")["id"]
    assert w["step"] is None and w["pass"] is None and (w["after_forward"], w["after_backward"]) == (len(t["forward"]), 1)


def test_a_warning_raised_in_a_hook_during_backward_belongs_to_that_pass():
    code = ("import torch, warnings\nx = torch.ones(2, requires_grad=True)\ny = x * 2\n"
            "def hook(g):\n    warnings.warn('seen in backward')\n    return g\ny.register_hook(hook)\ny.sum().backward()\n")
    t = run(code)
    (w,) = t["warnings"]
    assert w["pass"] == 0 and w["line"] == 5


def test_gradcheck_result_is_on_its_step():
    code = "import torch\nx = torch.randn(3, dtype=torch.double, requires_grad=True)\nok = torch.autograd.gradcheck(torch.sin, (x,))\n"
    t = run(code)
    step = next(s for s in t["forward"] if s["op"] == "gradcheck")
    assert step["result"] == "True"


def test_a_leaf_made_to_require_grad_only_later_is_no_cut():
    # w did not require grad when `h = x * w` ran under no_grad: blaming no_grad would be false (issue 16 item 7)
    code = ("import torch\nw = torch.ones(2)\nx = torch.tensor([1.0, 2.0])\nwith torch.no_grad():\n    h = x * w\n"
            "w.requires_grad_()\ntry:\n    h.sum().backward()\nexcept RuntimeError:\n    pass\n")
    cause = run(code)["backward"][0]["error"]["cause"]
    assert cause["kind"] == "no_grad_fn" and cause["why"] == "no_input" and cause["line"] is None
