"""SandboxRunner: same traces as in-process, limits with the right kind, no state across runs, workers
replaced, clean environment, health and startup log."""
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from gradtrace.config import Settings
from gradtrace.examples import examples
from gradtrace.runner import InProcessRunner
from gradtrace.sandbox import SandboxRunner
from gradtrace.schema import Trace
from gradtrace.tracer.compact import expand
from gradtrace.tracer import Limits

SETTINGS = dict(workers=1, queue_size=4, timeout_s=4.0, cpu_s=1, memory_mb=1280, max_trace_bytes=300_000,
                max_stdout_chars=1000)


@pytest.fixture(scope="module")
def sandbox():
    """Production's warm parent (the gallery traced in it before any child is forked; test pools skip that)."""
    runner = SandboxRunner(Settings(**SETTINGS, sandbox_warm_gallery=True))
    runner.start()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def unguarded():
    """Language guards off: programs may import sys, atexit, threading... and still change nothing."""
    runner = SandboxRunner(Settings(**SETTINGS), language_guards=False)
    runner.start()
    yield runner
    runner.close()


def test_gallery_traces_match_in_process(sandbox):
    local = InProcessRunner(Limits.from_settings(sandbox.settings))
    for ex in examples():
        got = sandbox.run_sync(ex["code"])
        Trace.model_validate(got)
        assert got["format"] == "compact"  # the child sends the compact form; the API expands it on request
        assert _without_addresses(expand(got)) == _without_addresses(local.run_sync(ex["code"])), ex["id"]


WARM_UP = """import sys, json
import gradtrace.tracer as tracer
from gradtrace.examples import examples
from gradtrace.sandbox import zygote
traced = []
tracer.trace = lambda code, **kw: traced.append(code)
zygote.warm_up(gallery=json.loads(sys.argv[1]))
print(json.dumps([len(traced), len(examples())]))
"""


@pytest.mark.parametrize("gallery", [True, False])
def test_warm_up_traces_the_gallery_unless_the_setting_is_off(gallery):
    """The setting reaches the warm parent's options, and warm_up traces every example, or none when off."""
    assert Settings.model_fields["sandbox_warm_gallery"].default is True  # production warms up
    assert SandboxRunner(Settings(sandbox_warm_gallery=gallery)).options.warm_gallery is gallery
    out = subprocess.run([sys.executable, "-c", WARM_UP, json.dumps(gallery)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    traced, total = json.loads(out.stdout)
    assert total >= 20 and traced == (total if gallery else 0)


def _without_addresses(trace: dict) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x?", json.dumps(trace, sort_keys=True))


def test_normal_python_keeps_working(sandbox):
    code = '''
import torch, math, functools, itertools, collections, random
from torch import nn
import torch.nn.functional as F

class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return F.relu(self.fc(x))

def scale(k):
    return lambda t: t * k

x = torch.tensor([1.0, 2.0], requires_grad=True)
x.register_hook(lambda g: print(f"hook {g.tolist()}"))
y = Square.apply(scale(3.0)(x)).sum() + Net()(x).sum()
y.backward()
print([i * i for i in range(3)], {k: v for k, v in zip("ab", (1, 2))}, type(x).__name__)
print(math.floor(2.5), functools.reduce(max, [1, 5, 2]), collections.Counter("aab")["a"])
if __name__ == "__main__":
    print("main")
'''
    result = sandbox.run_sync(code)
    assert result["status"] == "ok", result["error"]
    assert "hook" in result["stdout"] and "[0, 1, 4] {'a': 1, 'b': 2} Tensor" in result["stdout"]
    assert "main\n" in result["stdout"]


def test_seed_is_applied(sandbox):
    code = "import torch\nx = torch.randn(3)\nprint(x.tolist())\n"
    a, b, c = sandbox.run_sync(code, 1), sandbox.run_sync(code, 1), sandbox.run_sync(code, 2)
    assert a["stdout"] == b["stdout"] != c["stdout"]


def test_wall_clock_limit_keeps_partial_trace(sandbox):
    started = time.monotonic()
    result = sandbox.run_sync("import torch\na = torch.ones(2)\nimport time\ntime.sleep(60)\n")
    assert time.monotonic() - started < 4.0 + 2.0
    assert result["error"]["kind"] == "timeout" and result["error"]["line"] == 4
    assert [t["name"] for t in result["tensors"]] == ["a"]


def test_cpu_limit(sandbox):
    result = sandbox.run_sync("n = 0\nwhile True:\n    n += 1\n")
    assert result["error"]["kind"] == "timeout"
    assert "CPU time" in result["error"]["message"]


def test_memory_limit_keeps_partial_trace(sandbox):
    result = sandbox.run_sync("import torch\na = torch.ones(2)\nb = torch.ones(10**10)\n")
    assert result["error"]["kind"] == "memory" and result["error"]["line"] == 3
    assert [t["name"] for t in result["tensors"]] == ["a"]


def test_recursion_limit(sandbox):
    ok = sandbox.run_sync("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(150))\n")
    assert ok["status"] == "ok" and ok["stdout"] == "150\n"
    deep = sandbox.run_sync("def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(5000))\n")
    assert deep["error"]["type"] == "RecursionError"


def test_trace_size_limit_degrades_the_trace_not_the_run(sandbox):
    code = "import torch\nxs = [torch.randn(256) for _ in range(300)]\nprint(len(xs))\n"
    result = sandbox.run_sync(code)
    assert result["status"] == "ok" and result["stdout"] == "300\n"
    assert "larger than 300000 bytes" in result["omitted"]["reason"]
    assert len(json.dumps(result)) <= 300_000


def test_stdout_is_truncated(sandbox):
    result = sandbox.run_sync("print('x' * 100000)\n")
    assert result["status"] == "ok" and len(result["stdout"]) < 1200


STATE_CHANGES = '''
import torch, json, math, random, warnings
torch.set_grad_enabled(False)
torch.set_default_dtype(torch.float64)
torch.set_num_threads(2)
torch.Tensor.__add__ = lambda a, b: "patched"
torch.add = lambda *a, **k: "patched"
torch.nn.Module.__call__ = lambda *a, **k: "patched"
json.dumps = lambda *a, **k: "patched"
math.pi = 3
torch.autograd.set_detect_anomaly(True)
torch.set_printoptions(precision=1)
warnings.simplefilter("error")
torch.nn.modules.module.register_module_forward_hook(lambda *a: print("global hook"))
torch.autograd.graph.saved_tensors_hooks(lambda t: print("pack") or t, lambda t: t).__enter__()
torch.overrides.TorchFunctionMode().__enter__()
'''
STATE_PROBE = '''
import torch, json, math
x = torch.ones(2, requires_grad=True)
y = torch.nn.Linear(2, 1)(x) + x.sum()
print(torch.is_grad_enabled(), torch.get_default_dtype(), torch.get_num_threads(), json.dumps([1]), math.pi,
      torch.is_anomaly_enabled(), x + 1, torch.add(x, 1).tolist())
'''
PRISTINE = "True torch.float32 1 [1] 3.141592653589793 False tensor([2., 2.], grad_fn=<AddBackward0>) [2.0, 2.0]\n"


@pytest.mark.parametrize("runner_name", ["sandbox", "unguarded"])
def test_no_state_survives_a_run(runner_name, request):
    runner = request.getfixturevalue(runner_name)
    assert runner.run_sync(STATE_PROBE)["stdout"] == PRISTINE
    changed = runner.run_sync(STATE_CHANGES)
    assert changed["status"] == "ok", changed["error"]
    after = runner.run_sync(STATE_PROBE)
    assert after["status"] == "ok", after["error"]
    assert after["stdout"] == PRISTINE


def test_no_process_state_survives_unguarded(unguarded, tmp_path):
    marker = "/tmp/gradtrace-atexit-marker"
    code = f'''
import atexit, sys, threading, builtins, os
atexit.register(lambda: open("{marker}", "w"))
sys.setprofile(lambda *a: None)
sys.settrace(lambda *a: None)
builtins.print = lambda *a, **k: None
os.environ["LEAK"] = "1"
try:
    threading.Thread(target=lambda: None).start()
except RuntimeError as exc:
    sys.stdout.write(f"thread refused: {{exc}}\\n")
'''
    result = unguarded.run_sync(code)
    assert "thread refused" in result["stdout"]
    probe = unguarded.run_sync("import sys, os\nprint(sys.getprofile(), sys.gettrace(), os.environ.get('LEAK'))\n")
    assert probe["stdout"] == "None None None\n"
    assert not os.path.exists(marker)


def test_warm_parent_environment_is_clean(sandbox, monkeypatch):
    worker = sandbox._workers[0]
    with open(f"/proc/{worker.proc.pid}/environ", "rb") as f:
        names = {item.split(b"=", 1)[0].decode() for item in f.read().split(b"\0") if item}
    assert names <= {"PATH", "LANG", "HOME", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                     "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}


def test_health_reports_layers(sandbox):
    health = sandbox.health()
    assert health["ready"] and health["runner"] == "sandbox" and health["alive"] == 1
    assert set(health["layers"]) >= {"uid", "namespaces", "landlock", "seccomp", "rlimits"}
    json.dumps(health)


def _dead(pid: int) -> bool:
    """Whether our child process `pid` has wholly exited, so that it can be reaped (not reaping it). Its main thread
    shows as a zombie in /proc while another thread may still be tearing its memory down, and until then the
    runner's Popen.poll() rightly calls it alive."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def test_dead_worker_is_replaced(caplog):
    caplog.set_level(logging.INFO, logger="gradtrace.sandbox")
    runner = SandboxRunner(Settings(**SETTINGS))
    runner.start()
    try:
        assert any("isolation layers active" in r.message for r in caplog.records)  # the startup log line
        pid = runner._workers[0].proc.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10  # until the kill has landed (gone or a zombie), not a fixed wait
        while not _dead(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _dead(pid)
        result = runner.run_sync("print('after')\n")  # waits for the replacement, not an error
        assert result["stdout"] == "after\n"
        assert runner.health()["restarts"] == 1
    finally:
        runner.close()


def test_library_imports_on_the_programs_behalf_work(sandbox):
    code = ("import numpy as np\nimport time\nimport torch\nprint(np.linalg.inv(np.eye(2) * 2).sum())\n"
            "print(time.strptime('2020', '%Y').tm_year)\ntorch.set_num_threads(4)\n"
            "print((torch.randn(300, 300) @ torch.randn(300, 300)).shape)\n")
    result = sandbox.run_sync(code)
    assert result["status"] == "ok", result["error"]
    assert result["stdout"] == "1.0\n2020\ntorch.Size([300, 300])\n"
    refused = sandbox.run_sync("import numpy\nimport os\n")
    assert refused["error"]["kind"] == "refused" and refused["error"]["line"] == 2


def test_api_runs_the_gallery_through_the_sandbox_by_default():
    from fastapi.testclient import TestClient

    from gradtrace.api.app import create_app

    with TestClient(create_app(Settings(**SETTINGS))) as client:  # the lifespan starts (and closes) the pool
        health = client.get("/api/v1/health").json()
        assert health["status"] == "ok" and health["runner"]["runner"] == "sandbox"
        for ex in client.get("/api/v1/examples").json():
            response = client.post("/api/v1/traces", json={"code": ex["code"]})
            assert response.status_code == 200
            Trace.model_validate(response.json())
        refused = client.post("/api/v1/traces", json={"code": "import os\n"}).json()
        assert refused["error"]["kind"] == "refused"
