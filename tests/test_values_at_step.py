"""Every number the page draws at step k is the value that tensor had at that moment in plain torch.

The page's own timeline (frontend/static/js/model/timeline.js `dataAt`, through frontend/tools/values-at.mjs) is
asked for each parameter, buffer and named leaf at every step; the same program runs in plain torch under
`sys.settrace`, which snapshots those tensors before every line. A step on line L (in recorded iteration n) must
show the value before L ran, or the value after L where a step of that line up to k already wrote it.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gradtrace.tracer import trace

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is needed to run the page's timeline module")

_HEAD = "import torch\nimport torch.nn as nn\ntorch.manual_seed(0)\n"

PROGRAMS = {
    "sgd-mlp": _HEAD + """model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
X = torch.tensor([[1., 2.], [3., 4.]])
y = torch.tensor([[1.], [0.]])
pred = model(X)
loss = ((pred - y) ** 2).mean()
loss.backward()
opt.step()
pred2 = model(X)
""",
    "sgd-momentum-wd": _HEAD + """model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
X = torch.randn(4, 3)
y = torch.randn(4, 1)
loss = nn.functional.mse_loss(model(X), y)
loss.backward()
opt.step()
opt.zero_grad()
loss2 = nn.functional.mse_loss(model(X), y)
loss2.backward()
opt.step()
out = model(X)
""",
    "sgd-foreach": _HEAD + """model = nn.Linear(3, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5, foreach=True)
X = torch.randn(4, 3)
model(X).pow(2).sum().backward()
opt.step()
out = model(X)
""",
    "adam": _HEAD + """model = nn.Linear(3, 2)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
X = torch.randn(5, 3)
loss = model(X).pow(2).mean()
loss.backward()
opt.step()
opt.zero_grad()
loss2 = model(X).pow(2).mean()
loss2.backward()
opt.step()
out = model(X)
""",
    "adamw-fused": _HEAD + """model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1, fused=True)
X = torch.randn(5, 3)
loss = model(X).pow(2).mean()
loss.backward()
opt.step()
out = model(X)
""",
    "manual-and-data": _HEAD + """w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
b = torch.tensor(0.3, requires_grad=True)
x = torch.tensor([2.0, 1.0, -1.0])
loss = ((w * x).sum() + b) ** 2
loss.backward()
with torch.no_grad():
    w -= 0.1 * w.grad
b.data -= 0.1 * b.grad.data
y1 = (w * x).sum() + b
w.data = torch.zeros(3)
y2 = (w * x).sum() + b
b.data.fill_(7.0)
y3 = w * x + b
""",
    "init-functions": _HEAD + """model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())
X = torch.ones(3, 2)
out = model(X)
nn.init.constant_(model[0].weight, 0.5)
with torch.no_grad():
    model[0].bias.zero_()
out2 = model(X)
nn.init.normal_(model[0].weight.data)
out3 = model(X)
""",
    "batchnorm": _HEAD + """model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
X = torch.randn(6, 3)
loss = model(X).pow(2).mean()
loss.backward()
opt.step()
loss2 = model(X).pow(2).mean()
model.eval()
out = model(X)
""",
    "loop-sgd": _HEAD + """model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
X = torch.tensor([[1., 2.], [3., 4.], [-1., 0.5]])
y = torch.tensor([[1.], [0.], [0.5]])
for epoch in range(40):
    opt.zero_grad()
    loss = ((model(X) - y) ** 2).mean()
    loss.backward()
    opt.step()
final = model(X)
""",
    "transformer-adam-loop": _HEAD + """layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True)
model = nn.TransformerEncoder(layer, num_layers=2)
head = nn.Linear(16, 4)
opt = torch.optim.Adam(list(model.parameters()) + list(head.parameters()), lr=1e-3)
x = torch.randn(2, 5, 16)
y = torch.tensor([1, 3])
for it in range(5):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(head(model(x).mean(1)), y)
    loss.backward()
    opt.step()
""",
    "loop-adam-data": _HEAD + """w = torch.tensor([1.0, -1.0], requires_grad=True)
lin = nn.Linear(2, 1)
opt = torch.optim.Adam(lin.parameters(), lr=0.05)
x = torch.tensor([0.5, 2.0])
for step in range(30):
    opt.zero_grad()
    w.grad = None
    loss = (lin(w * x) - 1.0).pow(2).sum()
    loss.backward()
    opt.step()
    w.data -= 0.1 * w.grad.data
final = lin(w * x)
""",
}


def _watched(ns) -> dict:
    """name -> tensor for every parameter and buffer of the modules in `ns` and every tensor variable."""
    out = {}
    for var, v in list(ns.items()):
        if isinstance(v, torch.nn.Module):
            for name, t in list(v.named_parameters()) + list(v.named_buffers()):
                out[f"{var}.{name}"] = t
        elif isinstance(v, torch.Tensor) and not var.startswith("_"):
            out[var] = v
    return out


def run_plain(code: str):
    """[(line, occurrence, {name: value})] before each line of the program's top level, then (None, 0, final)."""
    events, counts = [], {}
    ns = {"__name__": "__main__"}

    def snap():
        return {k: t.detach().clone() for k, t in _watched(ns).items()}

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != "<oracle>" or frame.f_code.co_name != "<module>":
            return None
        if event == "line":
            n = counts.get(frame.f_lineno, 0)
            counts[frame.f_lineno] = n + 1
            events.append((frame.f_lineno, n, snap()))
        return tracer

    compiled = compile(code, "<oracle>", "exec")
    sys.settrace(tracer)
    try:
        exec(compiled, ns)
    finally:
        sys.settrace(None)
    events.append((None, 0, snap()))
    return events


def page_values(code: str, t: dict, tids: list) -> list:
    doc = json.dumps({"code": code, "trace": t, "tids": tids})
    out = subprocess.run([NODE, str(ROOT / "frontend/tools/values-at.mjs")], input=doc, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def _nums(v):
    if v is None:
        return None
    if v.get("values") is None:
        return torch.tensor([v["min"], v["max"], v["mean"]], dtype=torch.float64)
    return torch.tensor(v["values"], dtype=torch.float64).reshape(-1)


def _plain_nums(t, summarised):
    d = t.detach().to(torch.float64).reshape(-1)
    return torch.stack([d.min(), d.max(), d.mean()]) if summarised else d


def check_program(code: str) -> tuple[dict, list]:
    t = trace(code)
    assert t["status"] == "ok", t["error"]
    events = run_plain(code)
    index = {(line, n): i for i, (line, n, _) in enumerate(events)}
    names = {x["name"]: x["id"] for x in t["tensors"] if x["name"]}
    watched = {name: names[name] for name in events[-1][2] if name in names}
    assert watched, "nothing to compare"
    rows = page_values(code, t, sorted(set(watched.values())))
    errors = [r for r in rows if r.get("error")]
    assert not errors, errors[0]["error"]
    checked = 0
    written: dict = {}  # (line, occurrence) -> tids some step of that line execution has written so far
    for row in rows[1:]:
        e = row["entry"]
        if e["kind"] != "forward":
            continue
        s = t["forward"][e["index"]]
        n = (s.get("iteration") or {}).get("index", 0)
        at = (s["line"], n)
        assert at in index, f"step {row['k']} line {s['line']} run {n} never ran in plain torch"
        i = index[at]
        done = written.setdefault(at, set())
        done.update(s["outputs"])
        done.update(s.get("data_changes") or {})
        for name, tid in watched.items():
            shown = row["tensors"][tid]
            if not shown["visible"]:
                continue
            before, after = events[i][2].get(name), events[i + 1][2].get(name)
            if before is None and after is None:
                continue
            want = after if before is None or (tid in done and not torch.equal(before, after)) else before
            got = _nums(shown["data"])
            assert got is not None, f"step {row['k']}: no value for {name}"
            expect = _plain_nums(want, shown["data"].get("values") is None)
            assert got.shape == expect.shape and torch.allclose(got, expect, rtol=1e-5, atol=1e-6), (
                f"step {row['k']} ({s['op']} on line {s['line']}): {name} drawn {got.tolist()}, torch had {expect.tolist()}")
            checked += 1
    assert checked > 0
    return t, rows


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_drawn_value_is_torch_s_value_at_that_step(name):
    check_program(PROGRAMS[name])


def test_the_lecture_mlp_shows_the_initial_weight_before_the_step():
    """The issue's own numbers: model.0.weight at the first linear is torch's initial value, not the stepped one."""
    code = PROGRAMS["sgd-mlp"]
    t, rows = check_program(code)
    ns: dict = {}
    exec(compile(code.split("opt = ")[0], "<p>", "exec"), ns)
    w0 = ns["model"][0].weight.detach()
    tid = next(x["id"] for x in t["tensors"] if x["name"] == "model.0.weight")
    k = next(r["k"] for r in rows[1:] if r["entry"]["kind"] == "forward" and t["forward"][r["entry"]["index"]]["op"] == "linear")
    drawn = page_values(code, t, [tid])[k]["tensors"][tid]["data"]
    assert torch.allclose(torch.tensor(drawn["values"]), w0)
    assert not torch.allclose(torch.tensor(drawn["values"]), torch.tensor(
        next(x for x in t["tensors"] if x["id"] == tid)["data"]["values"]))  # the final (stepped) value differs


# --- optimizer updates: one step and one card per parameter, numbers torch agrees with ---
OPTIMIZERS = {
    "sgd": "torch.optim.SGD(model.parameters(), lr=0.1)",
    "sgd-momentum-wd-nesterov": "torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)",
    "sgd-foreach-dampening": "torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.8, dampening=0.1, foreach=True)",
    "adam": "torch.optim.Adam(model.parameters(), lr=0.01)",
    "adam-wd-amsgrad": "torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.05, amsgrad=True)",
    "adamw": "torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)",
    "adamw-fused": "torch.optim.AdamW(model.parameters(), lr=0.01, fused=True)",
    "rmsprop": "torch.optim.RMSprop(model.parameters(), lr=0.01)",
}
_TERMS = {"buf ←": "momentum_buffer", "m ←": "exp_avg", "v ←": "exp_avg_sq"}


def _optimizer_program(ctor: str, width: int = 3) -> str:
    return _HEAD + f"""model = nn.Sequential(nn.Linear(2, {width}), nn.Tanh(), nn.Linear({width}, 1))
opt = {ctor}
X = torch.tensor([[1., 2.], [3., 4.], [-1., 0.5]])
y = torch.tensor([[1.], [0.], [0.5]])
for step in range(3):
    opt.zero_grad()
    loss = ((model(X) - y) ** 2).mean()
    loss.backward()
    opt.step()
"""


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_one_update_card_per_parameter_with_torch_s_numbers(name):
    code = _optimizer_program(OPTIMIZERS[name])
    t, rows = check_program(code)
    ns: dict = {}
    exec(compile(code, "<plain>", "exec"), ns)
    model, opt = ns["model"], ns["opt"]
    params = dict(model.named_parameters())
    updates = [s for s in t["forward"] if s["kind"] == "optim"]
    assert len(updates) == 3 * len(params) and all(s.get("optim") for s in updates)  # no internal op of the optimizer
    cards = {r["k"]: r for r in rows if r.get("card")}
    assert len(cards) == len(updates)
    last = {}
    for r in cards.values():
        c = r["card"]
        assert "parameter update" in r["title"] and not r["title"].lower().startswith("forward"), r["title"]
        assert f"{c['position']}/{c['count']}" in r["title"] and c["count"] == len(params)
        assert c["agrees"], (name, c)          # the rule evaluated on the recorded values gives torch's new value
        assert "updates  in place" not in r["text"] and "zeros_like" not in r["text"]
        last[c["name"]] = c
    assert set(last) == {f"model.{p}" for p in params}
    for pname, p in params.items():
        c = last[f"model.{pname}"]
        assert torch.allclose(torch.tensor(c["after"]["values"]), p.detach(), atol=1e-6)
        assert torch.allclose(torch.tensor(c["recomputed"]["values"]), p.detach(), rtol=1e-4, atol=1e-6)
        state = opt.state[p]
        for row in c["rows"]:
            term = next((v for key, v in _TERMS.items() if row["formula"].startswith(key)), None)
            if term == "exp_avg_sq" and term not in state:
                term = "square_avg"  # RMSprop's v
            if term is not None:
                assert torch.allclose(torch.tensor(row["values"]["values"]), state[term], rtol=1e-5, atol=1e-8), row
            if row["formula"].startswith("m̂"):
                t_ = float(state["step"])
                assert torch.allclose(torch.tensor(row["values"]["values"]), state["exp_avg"] / (1 - 0.9 ** t_), rtol=1e-5, atol=1e-8)


def test_summarised_parameters_step_through_without_a_script_error():
    """Over the value limit the trace keeps statistics only: every step still narrates, the update too."""
    code = _optimizer_program("torch.optim.Adam(model.parameters(), lr=0.01)", width=300)
    t = trace(code)
    tids = [x["id"] for x in t["tensors"] if x["name"] == "model.0.weight"]
    rows = page_values(code, t, tids)
    assert not [r for r in rows if r.get("error")]
    assert rows[-1]["k"] > 0 and tids
    big = [r for r in rows if r.get("card") and r["card"]["name"] == "model.0.weight"]
    assert big and big[0]["card"]["after"]["values"] is None and "parameter update" in big[0]["title"]
    assert "mean" in big[0]["text"]


def test_data_changes_round_trip_through_both_compact_versions():
    import copy
    from gradtrace.schema import Trace
    from gradtrace.tracer.compact import compact, expand
    cases = []
    for name in ("sgd-mlp", "loop-adam-data", "batchnorm"):
        full = json.loads(json.dumps(trace(PROGRAMS[name])))
        assert any(s.get("data_changes") for s in full["forward"]), name
        Trace.model_validate(full)
        v2 = json.loads(json.dumps(compact(copy.deepcopy(full))))
        v1 = json.loads(json.dumps(compact(copy.deepcopy(full), 1)))
        assert expand(copy.deepcopy(v2)) == full and expand(copy.deepcopy(v1)) == full, name
        cases += [{"name": name, "full": full, "compact": v2}, {"name": f"{name} v1", "full": full, "compact": v1}]
    out = subprocess.run([NODE, str(ROOT / "frontend/tests/tools/expand-check.mjs")], input=json.dumps(cases),
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == []
