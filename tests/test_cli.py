"""The gradtrace command: its trace output is the API's Trace document."""
import json
import subprocess
import sys
from pathlib import Path

from gradtrace.schema import Trace

GRADTRACE = [sys.executable, "-m", "gradtrace.cli"]


def test_trace_prints_schema_valid_json(tmp_path: Path):
    prog = tmp_path / "prog.py"
    prog.write_text("import torch\nw = torch.tensor([2., 3.], requires_grad=True)\nloss = (w ** 2).sum()\n"
                    "loss.backward()\nprint(w.grad)\n")
    out = subprocess.run(GRADTRACE + ["trace", str(prog)], capture_output=True, text=True, check=True).stdout
    trace = Trace.model_validate(json.loads(out))
    w = next(t for t in trace.tensors if t.name == "w")
    assert w.grad.values == [4.0, 6.0] and trace.stdout == "tensor([4., 6.])\n"


def test_trace_check_flag_reports_failure(tmp_path: Path):
    prog = tmp_path / "bad.py"
    prog.write_text("import torch\nx = torch.ones(2)\nx.backward()\n")
    res = subprocess.run(GRADTRACE + ["trace", "--check", str(prog)], capture_output=True, text=True)
    assert res.returncode == 1
    body = json.loads(res.stdout)
    assert body["error"]["line"] == 3 and body["error"]["type"] == "RuntimeError"


def test_help_lists_commands():
    out = subprocess.run(GRADTRACE + ["--help"], capture_output=True, text=True, check=True).stdout
    for command in ("serve", "trace", "settings"):
        assert command in out
