"""Trace.modules: the nn.Module tree the program called, checked against the model's own named_modules()."""
import json
from pathlib import Path

import torch

from gradtrace.schema import Trace
from gradtrace.tracer import trace

MODELS = Path(__file__).parent / "browser" / "models"


def run(name: str) -> dict:
    tr = json.loads(json.dumps(trace((MODELS / f"{name}.py").read_text(), seed=0)))
    assert tr["status"] == "ok", tr["error"]
    Trace.model_validate(tr)
    return tr


def namespace(name: str) -> dict:
    ns: dict = {"__name__": "__main__"}
    exec(compile((MODELS / f"{name}.py").read_text(), name, "exec"), ns)
    return ns


def test_gpt_blocks_called_from_a_loop_get_their_named_modules_paths():
    tr = run("gpt")
    model = namespace("gpt")["model"]
    mods = {m["path"]: m for m in tr["modules"]}
    for rel, mod in model.named_modules():
        if isinstance(mod, torch.nn.ModuleList):  # a container never called: not in the tree, its items are
            assert f"model.{rel}" not in mods
            continue
        path = f"model.{rel}" if rel else "model"
        assert path in mods, path
        assert mods[path]["class"] == type(mod).__name__
        assert mods[path]["params"] == sum(p.numel() for p in mod.parameters())
        parent = mods[path]["parent"]
        assert parent is None if not rel else path.startswith(parent + ".")
    with torch.no_grad():
        x = torch.randint(0, 16, (2, 5))
        assert mods["model"]["shape"] == list(model(x).shape)
        assert mods["model.h.1.attn.qkv"]["shape"] == [2, 5, 24]
    # steps name the same paths: each Block's ops sit under its own path
    paths = {s["module"] for s in tr["forward"] if s["module"]}
    assert {"model.h.0.attn", "model.h.1.attn", "model.h.0.mlp.0"} <= paths
    assert paths <= set(mods)


def test_transformer_encoder_layers_are_two_modules_not_one():
    tr = run("transformer_encoder")
    mods = {m["path"]: m for m in tr["modules"]}
    assert mods["encoder.layers.0"]["class"] == mods["encoder.layers.1"]["class"] == "TransformerEncoderLayer"
    assert mods["encoder.layers.1.self_attn"]["parent"] == "encoder.layers.1"
    assert mods["head"] == {"path": "head", "class": "Linear", "parent": None, "params": 27, "shape": [2, 3], "calls": 1}


def test_a_program_without_modules_has_no_module_tree():
    tr = trace("import torch\na = torch.ones(2, requires_grad=True)\n(a * 2).sum().backward()\n", seed=0)
    assert "modules" not in tr


def test_clipping_and_zero_grad_steps_say_they_are_bookkeeping():
    code = (MODELS / "gpt.py").read_text() + "opt.zero_grad(set_to_none=False)\n"
    tr = json.loads(json.dumps(trace(code, seed=0)))
    Trace.model_validate(tr)
    clip_line = 1 + code.splitlines().index("torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)")
    tagged = {(s["line"], s.get("bookkeeping")) for s in tr["forward"] if s.get("bookkeeping")}
    assert tagged == {(clip_line, "clip_grad_norm"), (len(code.splitlines()), "zero_grad")}
    # every step on the clipping line is tagged, and no forward step of the model is
    assert all(s.get("bookkeeping") == "clip_grad_norm" for s in tr["forward"] if s["line"] == clip_line)
    assert not any(s.get("bookkeeping") for s in tr["forward"] if s["module"])
    # the zero_grad(set_to_none=False) steps zero every parameter's .grad
    zeroed = {o for s in tr["forward"] if s.get("bookkeeping") == "zero_grad" for o in s["outputs"]}
    grads = {t["id"] for t in tr["tensors"] if t["grad_of"]}
    assert zeroed and zeroed <= grads
