"""Fixtures of the security suite: sandboxes with short limits, a secret canary file, a marker directory
anyone may write to, loopback listeners that count connections, and a secret in the server's environment.

Files and folders are world-readable/writable on purpose: file permissions alone must not be what stops
an attack, so each test shows the sandbox's own layers at work.
"""
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from gradtrace.config import Settings
from gradtrace.sandbox import SandboxRunner
from gradtrace.sandbox.options import KILL_GRACE_S

ENV_SECRET_NAME = "GRADTRACE_TEST_ENV_SECRET"
BENIGN = "import torch\nx = torch.tensor([3.0], requires_grad=True)\ny = x * x\ny.backward()\nprint(x.grad.item())\n"


def security_settings(**overrides) -> Settings:
    base = dict(workers=2, queue_size=8, timeout_s=1.0, cpu_s=3, memory_mb=1280)
    base.update(overrides)
    return Settings(**base)


class Listener:
    """A TCP listener on 127.0.0.1 and a unix-socket listener, counting accepted connections."""

    def __init__(self, folder: Path):
        self.count = 0
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(64)
        self.port = self.tcp.getsockname()[1]
        self.unix_path = str(folder / "listener.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.unix.listen(64)
        self._stop = False
        for sock in (self.tcp, self.unix):
            sock.settimeout(0.2)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        while not self._stop:
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            self.count += 1
            conn.close()

    def close(self):
        self._stop = True
        self.tcp.close()
        self.unix.close()


class World:
    """Everything an attack could touch, and how to tell whether it did."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="gradtrace-sec-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.secret = "CANARY-" + secrets.token_hex(12)
        self.canary = self.root / "secret.txt"
        self.canary.write_text(self.secret + "\n")
        os.chmod(self.canary, 0o644)
        self.canary_mtime = self.canary.stat().st_mtime_ns
        self.markers = self.root / "markers"
        self.markers.mkdir()
        os.chmod(self.markers, 0o777)
        self.env_secret = "ENVSECRET-" + secrets.token_hex(12)
        self.listener = Listener(self.root)
        self.pickle_bomb = self.root / "model.pt"

    def marker(self, name: str) -> Path:
        return self.markers / name

    def fill(self, code: str, name: str) -> str:
        return (code.replace("{canary}", str(self.canary)).replace("{marker}", str(self.marker(name)))
                .replace("{markers}", str(self.markers)).replace("{port}", str(self.listener.port))
                .replace("{unix}", self.listener.unix_path).replace("{pickle}", str(self.pickle_bomb))
                .replace("{env}", ENV_SECRET_NAME))

    def leaked(self, text: str) -> list[str]:
        return [s for s in (self.secret, self.env_secret) if s in text]

    def close(self):
        self.listener.close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def world():
    w = World()
    _write_pickle_bomb(w)
    old = os.environ.get(ENV_SECRET_NAME)
    os.environ[ENV_SECRET_NAME] = w.env_secret  # the server's environment holds a secret
    yield w
    if old is None:
        os.environ.pop(ENV_SECRET_NAME, None)
    else:
        os.environ[ENV_SECRET_NAME] = old
    w.close()


def _write_pickle_bomb(w: World) -> None:
    """A 'checkpoint' that creates a marker file when unpickled (as torch.load(weights_only=False) does)."""
    import pickle

    class Bomb:
        def __reduce__(self):
            return (os.system, (f"touch {w.marker('pickle_bomb')}",))

    w.pickle_bomb.write_bytes(pickle.dumps(Bomb()))
    os.chmod(w.pickle_bomb, 0o644)


@pytest.fixture(scope="session")
def sandbox(world):
    runner = SandboxRunner(security_settings(sandbox_warm_gallery=True))  # the attacks meet production's warm parent
    runner.start()
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def os_only_sandbox(world):
    """The same sandbox with the language guards switched off: the OS layers alone must hold."""
    runner = SandboxRunner(security_settings(workers=1, sandbox_warm_gallery=True), language_guards=False)
    runner.start()
    yield runner
    runner.close()


def hard_limit(settings: Settings) -> float:
    """Longest a run may take from the user's point of view, with slack for a loaded 2-core machine."""
    return settings.timeout_s + KILL_GRACE_S + 2.5


def run_timed(runner: SandboxRunner, code: str) -> tuple[dict, float, str]:
    started = time.monotonic()
    result = runner.run_sync(code)
    return result, time.monotonic() - started, json.dumps(result)


def assert_benign_works(runner: SandboxRunner) -> None:
    result = runner.run_sync(BENIGN)
    assert result["status"] == "ok", result["error"]
    assert result["stdout"] == "6.0\n"
