"""Every attack program against the sandbox: no effect, a clear error within the limit, and the next benign
program still works."""
import os

import pytest

from .attacks import ATTACKS, RAW
from .conftest import assert_benign_works, hard_limit, run_timed

STRAY_MARKERS = ("/tmp/gradtrace-raw-marker", "/dev/shm/gradtrace-marker")

pytestmark = pytest.mark.security


def check_attack(runner, world, attack):
    before = world.listener.count
    canary_before = world.canary.read_text()
    result, elapsed, text = run_timed(runner, world.fill(attack.code, attack.name))

    assert not world.leaked(text), f"{attack}: a secret reached the trace"
    assert not list(world.markers.iterdir()), f"{attack}: a marker file was created"
    assert not any(os.path.exists(p) for p in STRAY_MARKERS)
    assert world.listener.count == before, f"{attack}: a connection reached the listener"
    assert world.canary.read_text() == canary_before and world.canary.stat().st_mtime_ns == world.canary_mtime
    assert "FORGED" not in text
    assert elapsed <= hard_limit(runner.settings), f"{attack}: took {elapsed:.2f} s"
    if attack.kinds:
        assert result["status"] == "error", f"{attack}: expected an error, got {text[:300]}"
        assert result["error"]["kind"] in attack.kinds, f"{attack}: {result['error']}"
        assert result["error"]["message"].strip() or result["error"]["type"].strip()
    assert_benign_works(runner)
    return result


@pytest.mark.parametrize("attack", ATTACKS, ids=str)
def test_attack_is_stopped(sandbox, world, attack):
    check_attack(sandbox, world, attack)


@pytest.mark.parametrize("attack", RAW, ids=str)
def test_raw_attack_is_stopped_by_os_layers_alone(os_only_sandbox, world, attack):
    check_attack(os_only_sandbox, world, attack)


def test_refusals_say_why_and_where(sandbox, world):
    result = sandbox.run_sync("import torch\nx = torch.ones(2)\ntorch.save(x, 'w.pt')\n")
    assert result["error"] == {"kind": "refused", "type": "Refused", "line": 3,
                               "message": "torch.save writes files"}
    assert [t["name"] for t in result["tensors"]] == ["x"]  # runtime refusals keep the partial trace
    result = sandbox.run_sync("x = 1\ny = ().__class__\n")
    assert result["error"]["kind"] == "refused" and result["error"]["line"] == 2
    assert "__class__" in result["error"]["message"]


def test_workers_survived_the_suite(sandbox, os_only_sandbox):
    for runner in (sandbox, os_only_sandbox):
        health = runner.health()
        assert health["ready"] and health["alive"] == health["workers"]
