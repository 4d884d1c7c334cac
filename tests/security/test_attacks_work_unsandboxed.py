"""The attacks are real: run with plain Python (no sandbox), the raw ones do read the canary, leak the
environment, create their marker, or reach the listener. (Resource-exhaustion attacks are not run here.)"""
import os
import subprocess
import sys

import pytest

from .attacks import RAW
from .conftest import ENV_SECRET_NAME

pytestmark = pytest.mark.security
PLAIN = [a for a in RAW if a.plain]


def effect_happened(world, attack, out: str, before: int, rc: int) -> bool:
    code = attack.code
    if "{canary}" in code and "symlink" not in code:
        return world.secret in out
    if "environ" in code:
        return world.env_secret in out
    if "{pickle}" in code:
        return world.marker("pickle_bomb").exists()
    if "{marker}" in code:
        return os.path.lexists(world.marker(attack.name))
    if "{port}" in code and "SOCK_DGRAM" not in code or "{unix}" in code:
        return world.listener.count > before
    return rc == 0  # e.g. a raw socket or io_uring created from ctypes: success is the effect


def test_enough_attacks():
    from .attacks import ATTACKS

    assert len(ATTACKS) + len(RAW) >= 50 and len(PLAIN) >= 12


@pytest.mark.parametrize("attack", PLAIN, ids=str)
def test_attack_works_without_sandbox(world, attack):
    before = world.listener.count
    env = dict(os.environ, **{ENV_SECRET_NAME: world.env_secret})
    proc = subprocess.run([sys.executable, "-c", world.fill(attack.code, attack.name)], capture_output=True,
                          text=True, timeout=60, env=env, cwd=world.root)
    try:
        for _ in range(20):  # the listener thread counts asynchronously
            if effect_happened(world, attack, proc.stdout, before, proc.returncode):
                break
            __import__("time").sleep(0.05)
        assert effect_happened(world, attack, proc.stdout, before, proc.returncode), proc.stderr[-500:]
    finally:
        for marker in world.markers.iterdir():  # leave the world clean for the sandboxed runs
            marker.unlink() if not marker.is_dir() or marker.is_symlink() else marker.rmdir()
