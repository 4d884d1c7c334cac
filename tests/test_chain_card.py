"""The chain-rule card's numbers (incoming gradient, each gradient sent, the formula evaluated) against plain torch."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from gradtrace.examples import examples
from gradtrace.tracer import trace

import oracle
from oracle import decode

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "frontend" / "tests" / "tools" / "cards.mjs"
EXAMPLES = list(examples())
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run the page's model")


def plain_node_grads(code: str) -> list[list[tuple]]:
    """Plain torch run: per backward call, (name, grad_outputs, grad_inputs) of every node, in the order it ran."""
    records: list[list[tuple]] = []
    reachable = oracle._reachable

    def hooked(roots):
        fns = reachable(roots)
        rec: list[tuple] = []
        records.append(rec)
        for fn in fns:
            fn.register_hook(lambda gi, go, fn=fn, rec=rec: rec.append((fn.name(), list(go), list(gi))))
        return fns

    oracle._reachable = hooked
    try:
        run = oracle.run_plain(code, seed=0)
    finally:
        oracle._reachable = reachable
    # gradcheck's inner calls are not passes (the oracle skips them): keep only the outermost calls' records
    kept = [r for r, p in zip(records, run.passes)] if len(records) == len(run.passes) else records
    return kept


def cards_of(items: list[dict]) -> list[list[dict]]:
    out = subprocess.run(["node", str(CARDS)], input=json.dumps(items), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def gallery_cards():
    traces = {e["id"]: trace(e["code"], seed=0) for e in EXAMPLES}
    cards = cards_of([{"trace": traces[e["id"]], "code": e["code"]} for e in EXAMPLES])
    return {e["id"]: (traces[e["id"]], c) for e, c in zip(EXAMPLES, cards)}


def close(values: dict | None, t: torch.Tensor | None, what: str) -> None:
    if values is None or t is None:
        assert values is None and t is None, f"{what}: card {values is not None}, torch {t is not None}"
        return
    got = decode(values)
    assert got is not None, f"{what}: card has no numbers"
    want = t.detach().to(torch.float64)
    assert list(got.shape) == list(want.shape), f"{what}: shape {list(got.shape)} != {list(want.shape)}"
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-5), f"{what}: {got.flatten()[:6].tolist()} != {want.flatten()[:6].tolist()}"


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_card_numbers_match_plain_torch(ex, gallery_cards):
    tr, cards = gallery_cards[ex["id"]]
    plain = plain_node_grads(ex["code"])
    n_steps = sum(len(p["steps"]) for p in tr["backward"])
    assert len(cards) == n_steps, "one card per backward step"
    checked = computed = 0
    for card in cards:
        name, go, gi = plain[card["pass"]][card["index"]]
        assert name.replace("torch::autograd::", "") == card["name"], (card["pass"], card["index"])
        where = f"{ex['id']} pass {card['pass']} step {card['index']} {name}"
        close(card["incoming"]["values"], go[0] if go else None, f"{where} incoming")
        if card["accumulate"]:
            continue
        assert card["op"], f"{where}: the card names the forward op"
        for row in card["rows"]:
            close(row["sent"], gi[row["slot"]], f"{where} slot {row['slot']} sent")
            assert row["local"] and row["send"], f"{where}: a local derivative for every slot"
            if row["computed"] is not None:
                close(row["computed"], gi[row["slot"]], f"{where} slot {row['slot']} formula")
                computed += 1
            checked += 1
        if card["kind"] == "custom":
            assert card["custom"]["line"], f"{where}: the user's backward line"
            assert "return" in card["custom"]["text"] or "def" in card["custom"]["text"]
    if n_steps:
        assert checked, "some gradient was sent"


def test_formulas_cover_the_gallery(gallery_cards):
    """Every built-in node that sends a gradient, except the index/scatter family, evaluates its own formula."""
    missing = set()
    for _, cards in gallery_cards.values():
        for card in cards:
            if card["kind"] != "op":
                continue
            for row in card["rows"]:
                if row["sent"] is not None and row["computed"] is None:
                    missing.add(card["name"])
    assert missing <= {"CopySlices", "AsStridedBackward0", "MaxBackward0"}, missing


PROGRAMS = {
    "softmax-ce": "import torch\nimport torch.nn.functional as F\nz = torch.tensor([[1., 2., 0.5], [0.1, -1., 2.]], requires_grad=True)\n"
                  "t = torch.tensor([2, 0])\nL = F.cross_entropy(z, t)\nL.backward()\n",
    "softmax": "import torch\nz = torch.tensor([1., 2., 0.5], requires_grad=True)\np = torch.softmax(z, dim=0)\n"
               "L = (p * torch.tensor([1., 2., 3.])).sum()\nL.backward()\n",
    "bce": "import torch\nimport torch.nn.functional as F\np = torch.tensor([0.2, 0.7, 0.9], requires_grad=True)\n"
           "L = F.binary_cross_entropy(p, torch.tensor([0., 1., 1.]))\nL.backward()\n",
    "unary": "import torch\nx = torch.tensor([0.5, 1.5, 2.0], requires_grad=True)\n"
             "L = (x.exp() + x.log() + x.sin() + x.cos() + x.tanh() + x.sigmoid() + x.sqrt() - x / 3).sum()\nL.backward()\n",
    "div-broadcast": "import torch\na = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)\nb = torch.tensor([2., 5.], requires_grad=True)\n"
                     "L = (a / b - b).mean()\nL.backward()\n",
    "views": "import torch\nx = torch.arange(6.).requires_grad_()\ny = x.view(2, 3).t().reshape(3, 2)\nz = torch.cat([y, y * 2], dim=0)\n"
             "w = z.unsqueeze(0).expand(2, 6, 2)\nL = (w * w).sum(dim=1).mean()\nL.backward()\n",
    "mv-dot": "import torch\nM = torch.randn(3, 2, requires_grad=True)\nv = torch.randn(2, requires_grad=True)\nL = (M @ v).dot(M @ v)\nL.backward()\n",
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_card_formulas_on_more_ops(name):
    code = PROGRAMS[name]
    tr = trace(code, seed=0)
    assert tr["status"] == "ok", tr["error"]
    [cards] = cards_of([{"trace": tr, "code": code}])
    plain = plain_node_grads(code)
    evaluated = 0
    for card in cards:
        _, go, gi = plain[card["pass"]][card["index"]]
        close(card["incoming"]["values"], go[0] if go else None, f"{card['name']} incoming")
        for row in card["rows"]:
            close(row["sent"], gi[row["slot"]], f"{card['name']} sent")
            if row["computed"] is not None:
                close(row["computed"], gi[row["slot"]], f"{card['name']} slot {row['slot']} formula")
                evaluated += 1
    assert evaluated >= len([c for c in cards if not c["accumulate"]]) - 1, [c["name"] for c in cards]


# Real-model pieces: the formula each card states (printed from its expression tree) is evaluated on the saved values and
# compared with torch here; a formula that disagrees would be withheld (status "withheld"), which fails this test.
REAL = {
    "mse-manual": "import torch\nx = torch.tensor([[1., 2.], [3., 4.], [0.5, -1.]])\nw = torch.tensor([0.3, -0.2], requires_grad=True)\n"
                  "y = torch.tensor([1., 0., 2.])\npred = x @ w\nloss = ((pred - y) ** 2).mean()\nloss.backward()\n",
    "tanh": "import torch\nz = torch.tensor([0.3, -1.2, 2.0], requires_grad=True)\no = torch.tanh(z)\nL = (o * torch.tensor([1., 2., 3.])).sum()\nL.backward()\n",
    "wgan-gp": ("import torch\ntorch.manual_seed(0)\nD = torch.nn.Linear(3, 1)\nx = torch.randn(4, 3, requires_grad=True)\n"
                "out = D(x)\ngradients = torch.autograd.grad(out, x, torch.ones_like(out), create_graph=True)[0]\n"
                "gp = ((gradients.norm(2, dim=1) - 1) ** 2).mean()\ngp.backward()\n"),
    "layernorm": ("import torch\ntorch.manual_seed(0)\nln = torch.nn.LayerNorm(4)\nwith torch.no_grad():\n    ln.weight.uniform_(0.5, 1.5)\n    ln.bias.uniform_(-1, 1)\n"
                  "x = torch.randn(2, 3, 4, requires_grad=True)\nc = torch.randn(2, 3, 4)\nL = (ln(x) * c).sum()\nL.backward()\n"),
    "batchnorm-train": ("import torch\ntorch.manual_seed(0)\nbn = torch.nn.BatchNorm1d(3)\nwith torch.no_grad():\n    bn.weight.uniform_(0.5, 1.5)\n"
                        "x = torch.randn(4, 3, 2, requires_grad=True)\nc = torch.randn(4, 3, 2)\nL = (bn(x) * c).sum()\nL.backward()\n"),
    "batchnorm-eval": ("import torch\ntorch.manual_seed(0)\nbn = torch.nn.BatchNorm2d(2)\nwith torch.no_grad():\n    bn.running_mean.uniform_(-1, 1)\n"
                       "    bn.running_var.uniform_(0.5, 2)\n    bn.weight.uniform_(0.5, 1.5)\nbn.eval()\nx = torch.randn(2, 2, 2, 2, requires_grad=True)\n"
                       "c = torch.randn(2, 2, 2, 2)\nL = (bn(x) * c).sum()\nL.backward()\n"),
    "groupnorm": ("import torch\ntorch.manual_seed(0)\ngn = torch.nn.GroupNorm(2, 4)\nwith torch.no_grad():\n    gn.weight.uniform_(0.5, 1.5)\n"
                  "x = torch.randn(2, 4, 3, requires_grad=True)\nc = torch.randn(2, 4, 3)\nL = (gn(x) * c).sum()\nL.backward()\n"),
    "rmsnorm": ("import torch\ntorch.manual_seed(0)\nrms = torch.nn.RMSNorm(4)\nx = torch.randn(3, 4, requires_grad=True)\n"
                "c = torch.randn(3, 4)\nL = (rms(x) * c).sum()\nL.backward()\n"),
    "embedding": ("import torch\ntorch.manual_seed(0)\nemb = torch.nn.Embedding(5, 3, padding_idx=0)\nidx = torch.tensor([[1, 2, 1], [0, 4, 1]])\n"
                  "c = torch.randn(2, 3, 3)\nL = (emb(idx) * c).sum()\nL.backward()\n"),
    "gather-scatter": ("import torch\ntorch.manual_seed(0)\nh = torch.randn(2, 4, requires_grad=True)\nsrc = torch.randn(2, 3, requires_grad=True)\n"
                       "g = torch.gather(h, 1, torch.tensor([[0, 1, 1], [3, 0, 2]]))\n"
                       "s = h.scatter_add(1, torch.tensor([[0, 1, 1], [3, 0, 2]]), src)\n"
                       "r = h.scatter(1, torch.tensor([[2], [1]]), src[:, :1])\n"
                       "L = (g * torch.arange(6.).view(2, 3)).sum() + (s * s).sum() + (r * r).sum()\nL.backward()\n"),
    "index-select": ("import torch\nW = torch.randn(4, 3, requires_grad=True)\nrows = W.index_select(0, torch.tensor([2, 0, 2]))\n"
                     "L = (rows * torch.arange(9.).view(3, 3)).sum()\nL.backward()\n"),
    "ones-matmul": ("import torch\nX = torch.randn(6, 1, requires_grad=True)\nones = torch.ones(1, 3, requires_grad=True)\n"
                    "Y = X @ ones\nL = (Y * torch.arange(18.).view(6, 3)).sum()\nL.backward()\n"),
    "attention-gelu": ("import torch\nimport torch.nn.functional as F\ntorch.manual_seed(0)\nq = torch.randn(2, 3, 4, requires_grad=True)\n"
                       "k = torch.randn(2, 3, 4, requires_grad=True)\natt = F.softmax(q @ k.transpose(-2, -1) / 2, dim=-1)\n"
                       "h = F.gelu(att @ k)\nL = (h * torch.randn(2, 3, 4)).sum()\nL.backward()\n"),
    "clamp-max-recip": ("import torch\nx = torch.tensor([-2., 0.5, 1., 3.], requires_grad=True)\ny = torch.tensor([1., 0.5, 2., -1.], requires_grad=True)\n"
                        "L = (x.clamp(-1, 2) * torch.maximum(x, y) + torch.minimum(x, y) + (x + 4).reciprocal()).sum()\nL.backward()\n"),
}


@pytest.mark.parametrize("name", REAL)
def test_real_model_formulas_are_torchs(name):
    code = REAL[name]
    tr = trace(code, seed=0)
    assert tr["status"] == "ok", tr["error"]
    [cards] = cards_of([{"trace": tr, "code": code}])
    plain = plain_node_grads(code)
    checked = 0
    for card in cards:
        _, go, gi = plain[card["pass"]][card["index"]]
        for row in card["rows"]:
            where = f"{name} {card['name']} slot {row['slot']}"
            if row["sent"] is None:
                continue
            close(row["sent"], gi[row["slot"]], f"{where} sent")
            assert row["status"] != "withheld", f"{where}: its formula does not give torch's numbers"
            if row["status"] == "checked":
                close(row["computed"], gi[row["slot"]], f"{where} formula {row['send']}")
                checked += 1
            elif card["kind"] == "op":
                assert card["name"] in {"SliceBackward0"}, f"{where}: no formula checked ({row['send']})"
    assert checked


def test_real_model_formula_texts():
    texts = {}
    for name in ("mse-manual", "tanh", "layernorm", "ones-matmul", "batchnorm-train", "embedding"):
        [cards] = cards_of([{"trace": trace(REAL[name], seed=0), "code": REAL[name]}])
        texts[name] = {(c["name"], r["slot"]): r for c in cards for r in c["rows"]}
    assert texts["mse-manual"][("PowBackward0", 0)]["send"].startswith("2 · (pred - y) ⊙ dL/d")
    assert texts["tanh"][("TanhBackward0", 0)]["send"] == "(1 − o²) ⊙ dL/do"
    ln_w, ln_b = texts["layernorm"][("NativeLayerNormBackward0", 1)], texts["layernorm"][("NativeLayerNormBackward0", 2)]
    assert "⊙ x̂) summed over dims 0, 1" in ln_w["send"] and "x̂" not in ln_b["send"], (ln_w["send"], ln_b["send"])
    assert texts["ones-matmul"][("MmBackward0", 1)]["send"] == "Xᵀ @ dL/dY"
    assert "x̂" in texts["batchnorm-train"][("NativeBatchNormBackward0", 1)]["send"]
    assert "row indices[p]" in texts["embedding"][("EmbeddingBackward0", 0)]["send"]
