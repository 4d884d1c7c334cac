"""Narration is a claim about PyTorch: every number the page says during backward, checked against plain torch.

The page's own narration module (frontend/static/js/teach/narration.js) speaks for each step of a trace (via node,
frontend/tools/narrate.mjs); the same program runs in plain torch with node hooks that record what each
autograd node received and sent, in the engine's order, and every leaf's .grad after its AccumulateGrad.
Checked: no placeholder anywhere; each backward step names the node torch ran; what it "receives" is torch's
grad_output; each "dL/d<leaf> = … = V" is what torch sent that leaf; each "<leaf>.grad = V" is torch's .grad
then; a "summed over dim d" is torch's incoming gradient summed over d; every other number in a backward
caption is one torch computed in that pass; an in-place error's versions are the ones torch reports.
"""
import contextlib
import io
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gradtrace.examples import examples
from gradtrace.tracer import trace

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is needed to run the page's narration module")

TRICKY = {
    "view-inplace-slice": "import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 1\nz = y[1:]\nz.add_(5)\n(y * y).sum().backward()\n",
    "broadcast-bias": ("import torch\nx = torch.randn(4, 3)\nW = torch.randn(3, 2, requires_grad=True)\nb = torch.randn(2, requires_grad=True)\n"
                       "out = x @ W + b\nout.sum().backward()\n"),
    "broadcast-row": "import torch\nx = torch.randn(4, 3)\ns = torch.randn(1, 3, requires_grad=True)\n(x * s).sum().backward()\n",
    "expand": "import torch\ne = torch.randn(3, 1, requires_grad=True)\n(e.expand(3, 4) * torch.arange(4.)).sum().backward()\n",
    "linear-mse": ("import torch\nlin = torch.nn.Linear(3, 2)\nx = torch.randn(4, 3)\nt = torch.randn(4, 2)\n"
                   "loss = torch.nn.functional.mse_loss(lin(x), t)\nloss.backward()\n"),
    "bce": ("import torch\nz = torch.randn(5, requires_grad=True)\ny = torch.tensor([0., 1., 1., 0., 1.])\n"
            "loss = torch.nn.BCELoss()(torch.sigmoid(z), y)\nloss.backward()\n"),
    "custom-function": ("import torch\nclass Cube(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
                        "        ctx.save_for_backward(x)\n        return x ** 3\n    @staticmethod\n    def backward(ctx, g):\n"
                        "        x, = ctx.saved_tensors\n        return 3 * x ** 2 * g\nx = torch.tensor([1., 2.], requires_grad=True)\n"
                        "Cube.apply(x).sum().backward()\n"),
    "hooks": ("import torch\nx = torch.tensor([1., -2.], requires_grad=True)\ny = x * 3\ny.register_hook(lambda g: g * 2)\n"
              "z = (y ** 2).sum()\nz.backward()\n"),
    "create-graph": ("import torch\nx = torch.tensor([0.5, 1.5], requires_grad=True)\ny = (x ** 3).sum()\n"
                     "g, = torch.autograd.grad(y, x, create_graph=True)\ng.sum().backward()\n"),
    "fan-in-accumulate": ("import torch\nw = torch.tensor([2., 3.], requires_grad=True)\nL = (w * w + w).sum()\nL.backward(retain_graph=True)\n"
                          "L.backward()\n"),
    "vjp": "import torch\nx = torch.tensor([1., 2., 3.], requires_grad=True)\ny = x ** 2\ny.backward(gradient=torch.tensor([0.1, 1., 10.]))\n",
    "autograd-grad-two": ("import torch\na = torch.tensor(2., requires_grad=True)\nb = torch.tensor(3., requires_grad=True)\n"
                          "ga, gb = torch.autograd.grad(a * b + b, (a, b))\n"),
    "inplace-error": "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x.exp()\ny += 1\ny.sum().backward()\n",
    "freed-error": "import torch\nw = torch.tensor([1., 2.], requires_grad=True)\nL = (w * w).sum()\nL.backward()\nL.backward()\n",
    "detach-cut": "import torch\nw = torch.ones(2, requires_grad=True)\nc = (w * 2).detach()\n(c * w).sum().backward()\nprint(w.grad)\n",
    "layernorm": ("import torch\ntorch.manual_seed(0)\nln = torch.nn.LayerNorm(4)\nx = torch.randn(2, 3, 4, requires_grad=True)\n"
                  "c = torch.randn(2, 3, 4)\nL = (ln(x) * c).sum()\nL.backward()\n"),
    "mse-manual": ("import torch\nx = torch.tensor([[1., 2.], [3., 4.], [0.5, -1.]])\nw = torch.tensor([0.3, -0.2], requires_grad=True)\n"
                   "y = torch.tensor([1., 0., 2.])\npred = x @ w\nloss = ((pred - y) ** 2).mean()\nloss.backward()\n"),
    "ones-matmul": ("import torch\nX = torch.randn(6, 1, requires_grad=True)\nones = torch.ones(1, 3, requires_grad=True)\n"
                    "Y = X @ ones\nL = (Y * torch.arange(18.).view(6, 3)).sum()\nL.backward()\n"),
    "nonleaf-warning": "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x * 2\ny.sum().backward()\nprint(y.grad)\n",
}
PROGRAMS = {**{e["id"]: e["code"] for e in examples()}, **TRICKY}

PLACEHOLDER = re.compile(r"undefined|NaN|\bnull\b|dL/d\?|\bd/d[a-z]|→ \.|= ,|= \.|= —|\[object|= \?|\(\?\)")
VALUE = re.compile(r"(\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\](?: \(\d+ values\))?|-?\d+(?:\.\d+)?(?:e-?\d+)?|-?inf|nan)")


def narrations(programs: dict) -> dict:
    docs = [{"id": k, "code": code, "trace": trace(code, seed=0)} for k, code in programs.items()]
    out = subprocess.run([NODE, str(ROOT / "frontend/tools/narrate.mjs")], input=json.dumps(docs),
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return {d["id"]: (d["trace"], steps) for d, steps in zip(docs, json.loads(out))}


@pytest.fixture(scope="module")
def spoken():
    return narrations(PROGRAMS)


# --- plain torch, with node hooks ---

def _reach(roots):
    seen, out, stack = set(), [], [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        out.append(fn)
        stack.extend(c for c, _ in fn.next_functions)
    return out


def plain_passes(code: str) -> list[list[dict]]:
    """Per backward call: [{name, received, sent, leaf_grad_before, leaf_grad_after}] in the order torch ran the nodes."""
    passes, depth = [], [0]

    class Steps(list):
        results = ()
    tb, ab, ag = torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad
    gc = sys.modules["torch.autograd.gradcheck"]
    checks = {n: getattr(gc, n) for n in ("gradcheck", "gradgradcheck")}

    def around(roots, run):
        if depth[0]:
            return run()
        steps, handles = Steps(), []
        passes.append(steps)
        for fn in _reach(roots):
            def pre(go, fn=fn):
                var = getattr(fn, "variable", None)
                before = var.grad.detach().clone() if var is not None and var.grad is not None else None
                steps.append({"name": fn.name(), "received": [g.detach().clone() if g is not None else None for g in go],
                              "sent": None, "before": before, "after": None, "fn": fn})

            def post(gi, go, fn=fn):
                st = next(s for s in reversed(steps) if s["fn"] is fn)
                st["sent"] = [g.detach().clone() if g is not None else None for g in gi]
                var = getattr(fn, "variable", None)
                st["after"] = var.grad.detach().clone() if var is not None and var.grad is not None else None
            handles += [fn.register_prehook(pre), fn.register_hook(post)]
        depth[0] += 1
        try:
            out = run()
            steps.results = [t.detach().clone() for t in _flat(out)]
            return out
        finally:
            depth[0] -= 1
            for h in handles:
                h.remove()

    def quiet(original):
        def check(*a, **k):
            depth[0] += 1
            try:
                return original(*a, **k)
            finally:
                depth[0] -= 1
        return check

    torch.Tensor.backward = lambda self, *a, **k: around([self], lambda: tb(self, *a, **k))
    torch.autograd.backward = lambda *a, **k: around(_flat(a[0] if a else k.get("tensors")), lambda: ab(*a, **k))
    torch.autograd.grad = lambda *a, **k: around(_flat(a[0] if a else k.get("outputs")), lambda: ag(*a, **k))
    for n, f in checks.items():
        setattr(torch.autograd, n, quiet(f))
        setattr(gc, n, quiet(f))
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    grad_mode = torch.is_grad_enabled()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(code, "<plain>", "exec"), {"__name__": "__main__"})
    except Exception:
        pass
    finally:
        torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad = tb, ab, ag
        for n, f in checks.items():
            setattr(torch.autograd, n, f)
            setattr(gc, n, f)
        torch.set_grad_enabled(grad_mode)
    return passes


def _flat(x):
    if isinstance(x, torch.Tensor):
        return [x]
    return [t for y in (x or []) for t in _flat(y)] if isinstance(x, (list, tuple)) else []


# --- reading numbers out of a sentence ---

def numbers(text: str) -> tuple[list[float], bool]:
    """The numbers of one value literal; True when the page shortened it ("…")."""
    cut = "…" in text
    body = text.split("…")[0]
    return [float(x) for x in re.findall(r"-?inf|nan|-?\d+(?:\.\d+)?(?:e-?\d+)?", body.split("(")[0] if "values)" in text else body)], cut


def agrees(text: str, t: torch.Tensor | None) -> bool:
    if t is None:
        return False
    want = t.detach().double().flatten().tolist()
    got, cut = numbers(text)
    if not got or len(got) > len(want) or (not cut and len(got) != len(want)):
        return False
    return all(abs(a - b) <= 6e-4 * max(abs(b), 1e-3) or (b != b and a != a) for a, b in zip(got, want))


def literal_after(text: str, start: int) -> str | None:
    m = VALUE.match(text, start)
    return m.group(1) if m else None


# --- the checks ---

def test_no_narration_holds_a_placeholder(spoken):
    bad = [(pid, s["k"], s["text"]) for pid, (_, steps) in spoken.items() for s in steps
           if PLACEHOLDER.search(s["text"]) or PLACEHOLDER.search(s["title"]) or not s["text"].strip()]
    assert not bad, bad[:5]


@pytest.mark.parametrize("pid", list(PROGRAMS))
def test_backward_narration_numbers_are_torchs(spoken, pid):
    tr, steps = spoken[pid]
    plain = plain_passes(PROGRAMS[pid])
    assert len(plain) == len(tr["backward"]), "plain torch made as many backward calls"
    checked = 0
    for s in steps:
        e = s["entry"]
        if not e or e["kind"] != "backward":
            continue
        p, j = e["pass"], e["index"]
        ps, text = plain[p], s["text"]
        torch_step = ps[j]
        name = torch_step["name"].replace("torch::autograd::", "")
        assert name in text, f"{pid} step {s['k']}: torch ran {name}: {text}"
        # what it received
        r = text.find("receives", text.index(name))
        if r >= 0 and torch_step["received"] and torch_step["received"][0] is not None and "paths meet" not in text:
            rest = text[r + len("receives "):]
            if rest.startswith("the gradient "):
                lit = literal_after(text, r + len("receives the gradient "))
            else:
                lit = next((literal_after(text, r + len("receives ") + m.end()) for m in re.finditer(r" = ", rest)
                            if literal_after(text, r + len("receives ") + m.end())), None)
            assert lit and agrees(lit, torch_step["received"][0]), f"{pid} step {s['k']}: receives {lit}, torch {torch_step['received'][0]}: {text}"
            checked += 1
        # each number in the caption is one torch computed in this pass (sent, received, .grad before/after, the seed)
        pool = [g for st in ps[:j + 1] for g in (st["received"] or []) + (st["sent"] or []) if g is not None]
        pool += [st[k] for st in ps[:j + 1] for k in ("before", "after") if st[k] is not None]
        pool += list(ps.results) if j == len(ps) - 1 else []  # what torch.autograd.grad returned
        for m in re.finditer(r"(?<![\w/.*])= ", text):
            lit = literal_after(text, m.end())
            if lit is None or (not lit.startswith("[") and not re.fullmatch(r"-?[\d.e-]+", lit)):
                continue
            after = text[m.end() + len(lit):]
            if re.match(r"\s*[*/@^·⊙⊗]|\s*copied|\s*where|\)|\s*[-−]", after):
                continue  # a factor inside a formula ("2 * c * dL/dd"), not a value
            if "gradient=v" in text[:m.start()] and m.start() < text.find("receives"):
                continue  # the seed, checked below
            ok = any(agrees(lit, g) for g in pool) or any(agrees(lit, g.sum()) for g in pool)
            assert ok, f"{pid} step {s['k']}: {lit} is no number torch computed in this pass: {text}"
            checked += 1
        # .grad after AccumulateGrad
        if name == "AccumulateGrad":
            m = re.search(r"\.grad = (\[[^\]]*(?:\][^\]]*)*?\](?: \(\d+ values\))?|-?[\d.e-]+)\.", text)
            if m and torch_step["after"] is not None:
                assert agrees(m.group(1), torch_step["after"]), f"{pid} step {s['k']}: .grad = {m.group(1)}, torch {torch_step['after']}"
                checked += 1
        # broadcast sums
        for m in re.finditer(r"= dL/d\S+ summed over dims? ([\d, ]+) \(.*?\) = ", text):  # the gradient itself, summed
            dims = [int(d) for d in m.group(1).split(",")]
            lit = literal_after(text, m.end())
            got = torch_step["received"][0].sum(dim=dims)
            assert agrees(lit, got), f"{pid} step {s['k']}: summed over {dims} = {lit}, torch {got}"
            checked += 1
    # the gradient argument of a vector-Jacobian product
    for s in steps:
        m = re.search(r"is given gradient=v = ", s["text"])
        if m:
            p = s["entry"]["pass"]
            assert agrees(literal_after(s["text"], m.end()), plain[p][0]["received"][0]), s["text"]
    assert checked or not any(p for p in plain), f"{pid}: nothing was checked"


def test_in_place_error_versions_are_torchs(spoken):
    _, steps = spoken["inplace-error"]
    x = torch.tensor([1., 2.], requires_grad=True)
    y = x.exp()
    y += 1
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    now, expected = re.search(r"is at version (\d+); expected version (\d+)", str(info.value)).groups()
    text = steps[-1]["text"]
    assert f"It was saved at version {expected}, but it is now at version {now}: line 4 (y += 1) changed it in place" in text
    assert "ExpBackward0 (made on line 3: y = x.exp()) needs its saved result (y)" in text


def test_freed_and_detach_and_warning_are_explained(spoken):
    freed = spoken["freed-error"][1][-1]["text"]
    assert "MulBackward0 raised" in freed and "the backward call on line 4 (L.backward()) already freed them" in freed
    cut = spoken["detach-cut"][1]
    assert any("detach() cuts the result out of the graph" in s["text"] for s in cut)
    w = torch.ones(2, requires_grad=True)
    c = (w * 2).detach()
    (c * w).sum().backward()
    assert any(f"w.grad = [{int(w.grad[0])}, {int(w.grad[1])}]" in s["text"] for s in cut)  # only the path through c * w
    warned = spoken["nonleaf-warning"][1][-1]["text"]
    assert "⚠ Warning (line 5: print(y.grad)): y.grad is read, but y is not a leaf" in warned


def test_names_come_from_the_source_text(spoken):
    texts = " ".join(s["text"] for s in spoken["autograd-grad-two"][1])
    assert "a * b + b" in texts or "a * b" in texts
    texts = " ".join(s["text"] for s in spoken["broadcast-bias"][1])
    assert "dL/d(x @ W)" in texts
    assert "dL/db = (dL/dout) summed over dim 0" in texts or "dL/db = dL/dout summed over dim 0" in texts


def test_formulas_in_captions_are_bracketed_and_checked(spoken):
    """A caption states a formula only where it was evaluated on the saved values; brackets come from the tree."""
    mse = " ".join(s["text"] for s in spoken["mse-manual"][1])
    assert "= 2 · (pred - y) ⊙ dL/d" in mse and "2 * pred - y" not in mse
    ln = " ".join(s["text"] for s in spoken["layernorm"][1])
    assert re.search(r"dL/dln\.weight = \(dL/d\S+ ⊙ x̂\) summed over dims 0, 1", ln), ln
    ones = " ".join(s["text"] for s in spoken["ones-matmul"][1])
    assert "dL/dones = Xᵀ @ dL/dY = [" in ones and "copies" not in ones

