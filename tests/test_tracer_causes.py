"""Issue 8's tracer extensions: saved tensors' versions, in-place bumps, Error.cause, warnings placed on their step."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
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


# --- the program's own errors: a shape mismatch and an in-place change of a leaf, explained on the tensors it used ---

def _torch_fails(f):
    try:
        f()
    except RuntimeError as e:
        return str(e)
    return None


def test_matmul_shape_mismatch_names_the_two_tensors_and_their_real_shapes():
    t = run("import torch\nW = torch.randn(3, 2, requires_grad=True)\nx = torch.randn(3)\nb = torch.zeros(3)\ny = W @ x + b\n")
    c = t["error"]["cause"]
    assert c["kind"] == "shape" and c["op"] == "matmul" and c["line"] == 5
    assert c["names"] == ["W", "x"] and c["tensors"] == [by_name(t, "W")["id"], by_name(t, "x")["id"]]
    assert c["shapes"] == [[3, 2], [3]] and c["tensor"] == by_name(t, "W")["id"]
    assert _torch_fails(lambda: torch.randn(3, 2) @ torch.randn(3)) == t["error"]["message"]  # torch fails on these shapes


def test_transposed_operand_is_the_operand():
    t = run("import torch\nm = torch.nn.Linear(4, 2)\nx = torch.randn(3, 5)\ny = m.weight @ x.T\n")
    c = t["error"]["cause"]
    assert c["names"] == ["m.weight", "x.T"] and c["shapes"] == [[2, 4], [5, 3]]


def test_broadcast_mismatch_and_no_explanation_when_the_line_names_other_tensors():
    t = run("import torch\na = torch.ones(2, 3, requires_grad=True)\nb = torch.ones(2, 4)\nc = a + b\n")
    c = t["error"]["cause"]
    assert c["kind"] == "shape" and c["op"] == "broadcast" and c["shapes"] == [[2, 3], [2, 4]] and c["names"] == ["a", "b"]
    # the clash is cat([a, b]) (7) with a (3): a and b (3, 4) also clash, but they are not what failed: no cause
    t = run("import torch\na = torch.ones(3)\nb = torch.ones(4)\nd = torch.cat([a, b]) + a\n")
    assert t["error"]["type"] == "RuntimeError" and "cause" not in t["error"]


def test_in_place_change_of_a_leaf_names_the_leaf():
    for code, name in [("import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nw += 1\n", "w"),
                       ("import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nv = w * 2\nw.add_(v)\n", "w"),
                       ("import torch\nm = torch.nn.Linear(2, 2)\nm.weight.mul_(2)\n", "m.weight")]:
        t = run(code)
        c = t["error"]["cause"]
        assert c["kind"] == "leaf_inplace" and c["names"] == [name] and c["line"] == code.count("\n")
        if name == "w":
            assert c["tensor"] == by_name(t, "w")["id"]
    assert "a leaf Variable that requires grad" in _torch_fails(lambda: torch.ones(2, requires_grad=True).add_(1))


def test_the_page_explains_them_in_words():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to run the page's narration")
    root = Path(__file__).resolve().parents[1]
    progs = {"mm": "import torch\nW = torch.randn(3, 2, requires_grad=True)\nx = torch.randn(3)\ny = W @ x\n",
             "leaf": "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nw += 1\n",
             "bc": "import torch\na = torch.ones(2, 3, requires_grad=True)\nb = torch.ones(2, 4)\nc = a + b\n",
             "syntax": "import torch\nx = torch.tensor([1., 2.]\n"}
    docs = [{"id": k, "code": c, "trace": trace(c, seed=0)} for k, c in progs.items()]
    out = subprocess.run([node, str(root / "frontend/tools/narrate.mjs")], input=json.dumps(docs), capture_output=True, text=True,
                         check=True, cwd=root).stdout
    last = {d["id"]: steps[-1] for d, steps in zip(docs, json.loads(out))}
    assert "Why: on line 4 (y = W @ x), W is [3, 2], x is [3]" in last["mm"]["text"]
    assert "W's last size (2) must equal x's length (3), and 2 ≠ 3" in last["mm"]["text"]
    assert "W.T @ x would fit" in last["mm"]["text"]
    assert "Why: w is a leaf that requires grad" in last["leaf"]["text"] and "Line 3 (w += 1) would change w in place" in last["leaf"]["text"]
    assert "with torch.no_grad():" in last["leaf"]["text"]
    assert "at dim -1 a has 3 and b has 4" in last["bc"]["text"]
    assert last["syntax"]["title"].startswith("Syntax error") and "Ready" not in last["syntax"]["title"]
    assert "SyntaxError on line 2" in last["syntax"]["text"]


def test_a_leaf_made_to_require_grad_only_later_is_no_cut():
    # w did not require grad when `h = x * w` ran under no_grad: blaming no_grad would be false (issue 16 item 7)
    code = ("import torch\nw = torch.ones(2)\nx = torch.tensor([1.0, 2.0])\nwith torch.no_grad():\n    h = x * w\n"
            "w.requires_grad_()\ntry:\n    h.sum().backward()\nexcept RuntimeError:\n    pass\n")
    cause = run(code)["backward"][0]["error"]["cause"]
    assert cause["kind"] == "no_grad_fn" and cause["why"] == "no_input" and cause["line"] is None
