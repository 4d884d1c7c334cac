"""Legitimate programs the guards used to refuse (issue 10), each run through the real sandbox and held against
plain torch; and what stays refused says `refused` and why."""
import os
import tempfile
from pathlib import Path

import pytest

from gradtrace.config import Settings
from gradtrace.sandbox import SandboxRunner
from gradtrace.tracer.compact import to_format
from oracle import compare, run_plain

FORWARD_AD = """import torch
import torch.autograd.forward_ad as fwAD
x = torch.tensor([0.5, 1.0, 2.0])
with fwAD.dual_level():
    d = fwAD.make_dual(x, torch.tensor([1.0, 0.0, 2.0]))
    y = d.sin() * d
    primal, tangent = fwAD.unpack_dual(y)
print(primal, tangent)
"""
FUNC = """import torch
from torch.func import jvp, jacfwd, hessian
x = torch.tensor([0.1, -0.4, 0.9])
value, tangent = jvp(torch.sin, (x,), (torch.ones(3),))
print(value, tangent)
print(jacfwd(lambda t: t ** 3)(x))
print(hessian(lambda t: (t.sin() * t).sum())(x))
"""
PROFILER = """import torch
from torch.profiler import profile, ProfilerActivity, record_function
x = torch.tensor([1.0, 2.0], requires_grad=True)
with profile(activities=[ProfilerActivity.CPU]) as prof:
    with record_function("square"):
        y = (x * x).sum()
    y.backward()
names = {e.key for e in prof.key_averages()}
print("square" in names, "aten::mul" in names)
print(x.grad)
"""
EVAL_EXEC = """import torch
x = torch.tensor([1.0, 2.0], requires_grad=True)
k = eval("3 * 2")
exec("y = (x * k).sum()")
y.backward()
scope = {"torch": torch}
exec("import math\\nz = torch.tensor(math.pi)", scope)
print(k, x.grad, scope["z"], eval("x.grad.sum().item()"))
"""
CHECKPOINT = """import torch
import torch.utils.checkpoint
from torch.utils.checkpoint import checkpoint
x = torch.tensor([0.3, -1.2, 2.0], requires_grad=True)
def block(t):
    return (t.sin() * t).exp()
y = checkpoint(block, x, use_reentrant=False).sum()
y.backward()
print(y.item(), x.grad)
"""
ALLOWED = {"forward_ad": FORWARD_AD, "torch_func": FUNC, "profiler": PROFILER, "eval_exec": EVAL_EXEC,
           "checkpoint": CHECKPOINT}

STILL_REFUSED = {
    "user_torchscript": ("import torch\nf = torch.jit.script(lambda t: t * 2)\n", "TorchScript"),
    "jit_import": ("import torch.jit\n", "TorchScript"),
    "exec_import_os": ("exec('import os')\n", "import of os"),
    "eval_dunder": ("eval('().__class__')\n", "__class__"),
    "exec_built_name": ("exec('imp' + 'ort sys')\n", "import of sys"),
    "compile": ("code = compile('1', 's', 'eval')\n", "compile() is not available"),
    "open": ("open('/etc/hostname')\n", "open() is not available"),
    "profiler_export": ("import torch\nfrom torch.profiler import profile\nwith profile() as p:\n"
                        "    torch.ones(2).sum()\np.export_chrome_trace('{path}')\n", "writes files"),
    "profiler_load": ("import torch\ntorch.autograd.profiler.load_nvprof('/etc/hostname')\n", "reads files"),
    "profiler_handler": ("import torch.profiler\ntorch.profiler.tensorboard_trace_handler('{dir}')\n", "writes files"),
}


@pytest.fixture(scope="module")
def sandbox(default_pool):
    """The session's pool with default settings (tests/conftest.py)."""
    return default_pool


@pytest.mark.parametrize("name", ALLOWED)
def test_relaxed_program_runs_and_matches_plain_torch(sandbox, name):
    code = ALLOWED[name]
    trace = to_format(sandbox.run_sync(code), "full")  # the runner hands back the compact form
    assert trace["status"] == "ok", trace["error"]
    problems = compare(trace, run_plain(code, seed=0))
    assert not problems, "\n".join(problems)


def test_profiler_run_records_the_ops_and_prints_true(sandbox):
    trace = to_format(sandbox.run_sync(PROFILER), "full")  # the runner hands back the compact form
    assert trace["stdout"].splitlines()[0] == "True True"
    assert [s["op"] for s in trace["forward"] if s["op"] in ("mul", "sum")] == ["mul", "sum"]


def test_exec_string_ops_are_traced_at_the_exec_line(sandbox):
    trace = to_format(sandbox.run_sync(EVAL_EXEC), "full")  # the runner hands back the compact form
    exec_line = EVAL_EXEC.splitlines().index('exec("y = (x * k).sum()")') + 1
    assert {s["line"] for s in trace["forward"] if s["op"] == "mul"} == {exec_line}


@pytest.mark.parametrize("name", STILL_REFUSED)
def test_what_stays_refused_says_refused_and_why(sandbox, name):
    folder = Path(tempfile.mkdtemp(prefix="gradtrace-guard-"))
    os.chmod(folder, 0o777)  # the sandbox's uid could write here if only file permissions stood in the way
    code, reason = STILL_REFUSED[name]
    trace = to_format(sandbox.run_sync(code.replace("{path}", str(folder / "trace.json")).replace("{dir}", str(folder))), "full")  # the runner hands back the compact form
    assert trace["status"] == "error"
    assert trace["error"]["kind"] == "refused", trace["error"]
    assert reason in trace["error"]["message"]
    assert trace["error"]["line"] is not None
    assert list(folder.iterdir()) == []


def test_profiler_export_is_stopped_by_the_os_layers_alone():
    """With the language guards off, the OS layers still keep a profiler's export from writing a file."""
    folder = Path(tempfile.mkdtemp(prefix="gradtrace-guard-"))
    os.chmod(folder, 0o777)
    uid = int(os.environ.get("GRADTRACE_SANDBOX_UID", 65534))
    runner = SandboxRunner(Settings(workers=1, queue_size=1, sandbox_uid=uid), language_guards=False)
    runner.start()
    try:
        code = STILL_REFUSED["profiler_export"][0].replace("{path}", str(folder / "trace.json"))
        trace = to_format(runner.run_sync(code), "full")
    finally:
        runner.close()
    assert trace["status"] == "error"
    assert list(folder.iterdir()) == []
