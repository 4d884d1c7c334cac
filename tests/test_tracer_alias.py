"""Manual SGD through `.data`: updates show on the parameter, zeroing shows on its `.grad`."""
import torch

from gradtrace.tracer import trace

CODE = """import torch
w = torch.tensor([1., 2.], requires_grad=True)
for i in range(2):
    loss = (w * w).sum()
    loss.backward()
    w.data -= 0.1 * w.grad.data
    w.grad.data.zero_()
"""


def _plain_w_history():
    w = torch.tensor([1., 2.], requires_grad=True)
    history = []
    for _ in range(2):
        (w * w).sum().backward()
        w.data -= 0.1 * w.grad.data
        history.append(w.detach().clone())
        w.grad.data.zero_()
    return history


def test_data_update_shows_on_the_parameter():
    t = trace(CODE)
    w_id = t["variables"]["w"]
    updates = [s for s in t["forward"] if s["op"] == "sub_"]
    assert len(updates) == 2
    for step, expected in zip(updates, _plain_w_history()):
        assert w_id in step["outputs"]
        got = step["values"][step["outputs"].index(w_id)]["values"]
        assert torch.allclose(torch.tensor(got), expected)


def test_alias_step_shows_value_before_the_in_place_change():
    t = trace(CODE)
    w_id = t["variables"]["w"]
    alias = next(s for s in t["forward"] if s["op"] == "data" and s["inputs"] == [w_id])
    assert alias["values"][0]["values"] == [1.0, 2.0]
    assert "grad_changes" not in alias


def test_zeroing_grad_data_resets_the_owner_grad():
    t = trace(CODE)
    w_id = t["variables"]["w"]
    zeros = [s for s in t["forward"] if s["op"] == "zero_"]
    assert len(zeros) == 2
    assert all(s["grad_changes"][w_id]["values"] == [0.0, 0.0] for s in zeros)
    expected = 2 * _plain_w_history()[0]  # d/dw sum(w²) at the once-updated w
    assert torch.allclose(torch.tensor(t["backward"][1]["grads_after"][w_id]["values"]), expected)


def test_each_pass_says_where_it_falls_among_the_forward_steps():
    t = trace(CODE)
    ops_before = [[s["op"] for s in t["forward"][:p["after_forward"]]] for p in t["backward"]]
    assert [ops.count("sum") for ops in ops_before] == [1, 2]  # pass k follows the k-th loss
    assert all(p["line"] == 5 for p in t["backward"])
    assert t["forward"][t["backward"][0]["after_forward"]]["line"] == 6  # the update comes right after
