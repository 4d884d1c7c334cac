"""The server's handle on one warm parent process: start it with a clean environment, send a run, read the
answer with a deadline, and kill it when it misbehaves."""
import json
import os
import select
import subprocess
import sys
import time
from dataclasses import asdict

from . import channel
from .options import KILL_GRACE_S, Options

STARTUP_TIMEOUT_S = 120.0  # importing torch and warming up takes ~3 s; a cold disk on a busy host far more
# Extra seconds the server waits for a warm parent beyond the child's own hard limit, before declaring it hung.
PARENT_SLACK_S = 10.0
# Passed through because they are not secrets and some CPUs need them for correct BLAS results (see env docs).
_PASS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class WorkerDied(Exception):
    """The warm parent exited, hung, or spoke garbage; the worker must be replaced."""


def clean_environment() -> dict:
    """The warm parent's whole environment: the server's (secrets, tokens) never reaches a child."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
    return env


class Worker:
    def __init__(self, options: Options, index: int):
        self.options, self.index = options, index
        self.proc: subprocess.Popen | None = None
        self.report: dict = {}
        self.runs = 0

    def start(self) -> dict:
        """Spawn the warm parent and wait for its readiness report (layers active, self-checks)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "gradtrace.sandbox.zygote", json.dumps(asdict(self.options))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=clean_environment(), cwd="/",
            close_fds=True, start_new_session=True, bufsize=0)
        ready = json.loads(self._read(time.monotonic() + STARTUP_TIMEOUT_S))
        if "ready" not in ready:
            self.kill()
            raise WorkerDied(f"unexpected first message from the warm parent: {ready!r:.200}")
        self.report = ready["ready"]
        return self.report

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def run(self, code: str, seed: int, finite_difference: dict | None = None) -> tuple[dict, bytes]:
        """One program through the warm parent: (run info, trace JSON bytes). Raises WorkerDied."""
        if not self.alive:
            raise WorkerDied("the warm parent is not running")
        fd = {"fd": finite_difference} if finite_difference else {}
        request = json.dumps({"op": "run", "code": code, "seed": seed, **fd}).encode("utf-8", "surrogatepass")
        try:
            channel.write_frame(self.proc.stdin.fileno(), request)
            deadline = time.monotonic() + self.options.timeout_s + KILL_GRACE_S + PARENT_SLACK_S
            info = json.loads(self._read(deadline))
            payload = self._read(deadline)
        except (OSError, ValueError, channel.ChannelClosed) as exc:
            self.kill()
            raise WorkerDied(f"lost the warm parent: {exc}") from exc
        self.runs += 1
        return info, payload

    def _read(self, deadline: float) -> bytes:
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            self.kill()
            raise WorkerDied("the warm parent did not answer in time")
        return channel.read_frame(fd)

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()  # its children die with it (PR_SET_PDEATHSIG)
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
