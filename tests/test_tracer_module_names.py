"""Names from the module tree (issue 16 item 4): every parameter and buffer named by its `named_parameters()` path
from the program's own variable, whatever the module calls or locals in between; ties say so."""
from pathlib import Path

import pytest
import torch

from gradtrace.tracer import trace
from oracle import module_parameters, run_plain

CORPUS = Path(__file__).parent / "corpus"


def names(code: str) -> dict:
    t = trace(code, seed=0)
    assert t["status"] == "ok", t["error"]
    return {x["name"]: x for x in t["tensors"] if x["name"] and x["grad_of"] is None}


def test_transformer_encoder_is_named_from_the_program_variable_with_out_proj():
    code = """import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
        self.transformer_encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    def forward(self, x):
        return self.transformer_encoder(x)
model = Net()
model(torch.randn(3, 1, 4)).sum().backward()
"""
    got = names(code)
    plain = run_plain(code)
    for path, _p in module_parameters(plain):
        assert path in got, path
    assert "model.transformer_encoder.layers.0.self_attn.out_proj.weight" in got
    assert "model.transformer_encoder.layers.1.self_attn.in_proj_weight" in got
    assert not any(n.startswith(("TransformerEncoderLayer", "layer.")) for n in got), sorted(got)


def test_a_local_of_init_hidden_does_not_name_the_tied_weight():
    code = """import torch
import torch.nn as nn
class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(6, 4)
        self.rnn = nn.GRU(4, 4)
        self.decoder = nn.Linear(4, 6)
        self.decoder.weight = self.encoder.weight
    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return weight.new_zeros(1, bsz, 4)
    def forward(self, x, h):
        out, h = self.rnn(self.encoder(x), h)
        return self.decoder(out), h
model = RNNModel()
hidden = model.init_hidden(2)
out, hidden = model(torch.tensor([[1, 2], [3, 4]]), hidden)
out.sum().backward()
"""
    got = names(code)
    assert "weight" not in got
    assert got["model.encoder.weight"]["tied"] == ["model.decoder.weight"]
    assert got["model.encoder.weight"]["grad"] is not None
    assert "model.rnn.weight_hh_l0" in got


def test_a_layer_built_in_a_local_before_it_is_appended_takes_its_tree_path():
    code = """import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(2):
            lin = nn.Linear(2, 2)
            self.layers.append(lin)
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1)})
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.heads["a"](x)
net = Net()
net(torch.ones(2)).sum().backward()
"""
    got = names(code)
    for path in ("net.layers.0.weight", "net.layers.1.bias", "net.heads.a.weight"):
        assert path in got, sorted(got)
    assert not any(n.startswith(("lin.", "layer.", "Linear")) for n in got), sorted(got)


def test_buffers_are_named_and_step_modules_are_paths():
    code = """import torch
import torch.nn as nn
net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
loss = net(torch.randn(4, 3)).pow(2).sum()
loss.backward()
"""
    t = trace(code, seed=0)
    got = {x["name"] for x in t["tensors"]}
    assert {"net.1.running_mean", "net.1.running_var", "net.0.weight", "net.1.weight"} <= got
    assert {s["module"] for s in t["forward"] if s["op"] == "batch_norm"} == {"net.1"}


@pytest.mark.parametrize("name", ["real_nanogpt", "real_word_language_model", "real_transformer_encoder"])
def test_every_parameter_of_a_real_model_is_named_by_its_path(name):
    code = (CORPUS / f"{name}.py").read_text()
    t = trace(code, seed=0)
    named = {x["name"] for x in t["tensors"]} | {p for x in t["tensors"] for p in x.get("tied") or []}
    paths = [path for path, p in module_parameters(run_plain(code)) if isinstance(p, torch.nn.Parameter)]
    assert paths and [p for p in paths if p not in named] == []
    if name == "real_nanogpt":
        wte = next(x for x in t["tensors"] if x["name"] == "model.transformer.wte.weight")
        assert wte["tied"] == ["model.lm_head.weight"]
