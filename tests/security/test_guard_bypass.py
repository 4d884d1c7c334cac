"""Guard bypasses: each works in plain Python (reads the canary, leaks the server's environment, creates its
marker or reaches the listener); through the guarded sandbox it has no effect."""
import os
import subprocess
import sys
import time

import pytest

from .bypass import BYPASS
from .conftest import ENV_SECRET_NAME
from .test_attacks import check_attack
from .test_attacks_work_unsandboxed import effect_happened

pytestmark = pytest.mark.security


@pytest.mark.parametrize("attack", BYPASS, ids=str)
def test_bypass_works_without_sandbox(world, attack):
    before = world.listener.count
    env = dict(os.environ, **{ENV_SECRET_NAME: world.env_secret})
    proc = subprocess.run([sys.executable, "-c", world.fill(attack.code, attack.name)], capture_output=True,
                          text=True, timeout=60, env=env, cwd=world.root)
    try:
        for _ in range(20):
            if effect_happened(world, attack, proc.stdout, before, proc.returncode):
                break
            time.sleep(0.05)
        assert effect_happened(world, attack, proc.stdout, before, proc.returncode), proc.stdout[-300:] + proc.stderr[-500:]
    finally:
        for marker in world.markers.iterdir():
            marker.unlink() if not marker.is_dir() or marker.is_symlink() else marker.rmdir()


@pytest.mark.parametrize("attack", BYPASS, ids=str)
def test_bypass_is_contained_by_the_sandbox(sandbox, world, attack):
    check_attack(sandbox, world, attack)


@pytest.mark.parametrize("attack", BYPASS, ids=str)
def test_bypass_is_contained_by_the_os_layers_alone(os_only_sandbox, world, attack):
    check_attack(os_only_sandbox, world, attack)
