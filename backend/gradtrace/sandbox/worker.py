"""The server's handle on one warm parent process: start it with a clean environment, take the isolated spare
child it hands over, send that child the program and read its result directly, and kill the parent when it
misbehaves. The warm parent itself only ever hears "end <pid>"."""
import json
import os
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict

from . import channel
from .options import KILL_GRACE_S, SPARES, Options

STARTUP_TIMEOUT_S = 120.0  # importing torch and warming up takes ~3 s; a cold disk on a busy host far more
# Extra seconds the server waits for a warm parent beyond the child's own hard limit, before declaring it hung.
PARENT_SLACK_S = 10.0
# Passed through because they are not secrets and some CPUs need them for correct BLAS results (see env docs).
_PASS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
REQUEST_HEADROOM = 4096  # JSON around the program in a request frame


class WorkerDied(Exception):
    """The warm parent exited, hung, or spoke garbage; the worker must be replaced."""


class Stopped(Exception):
    """The run was stopped from outside before it returned a result (why: 'idle')."""


def clean_environment() -> dict:
    """The warm parent's whole environment: the server's (secrets, tokens) never reaches a child."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env.update({k: os.environ[k] for k in _PASS_ENV if k in os.environ})
    return env


def off_cpu_s(pid: int, since: tuple[int, int], wall_s: float) -> float:
    """Seconds of `wall_s` the process neither ran nor waited for a CPU (slept or blocked), from
    /proc/<pid>/schedstat (on-CPU ns, run-queue wait ns): a loaded machine does not count as idle."""
    on_cpu, waiting = schedstat(pid)
    return wall_s - (on_cpu - since[0] + waiting - since[1]) / 1e9


def schedstat(pid: int) -> tuple[int, int]:
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as f:
            fields = f.read().split()
        return int(fields[0]), int(fields[1])
    except (OSError, ValueError, IndexError):
        return 0, 0


class Worker:
    def __init__(self, options: Options, index: int):
        self.options, self.index = options, index
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.report: dict = {}
        self.runs = 0
        self.spares: deque[tuple[int, int]] = deque()  # (pid, run socket fd) handed over by the warm parent, oldest first
        self.reaped: dict[int, dict] = {}
        self.parent_cpu_s = 0.0

    def start(self) -> dict:
        """Spawn the warm parent and wait for its readiness report (layers active, self-checks)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = ours
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "gradtrace.sandbox.zygote", str(theirs.fileno()),
             json.dumps(asdict(self.options))],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=clean_environment(), cwd="/",
            close_fds=True, pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        ready = self._message(time.monotonic() + STARTUP_TIMEOUT_S)
        if "ready" not in ready:
            self.kill()
            raise WorkerDied(f"unexpected first message from the warm parent: {ready!r:.200}")
        self.report = ready["ready"]
        return self.report

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _message(self, deadline: float) -> dict:
        """The next control message; a spare's socket is kept, a reaped child's status filed."""
        try:
            message, fds = channel.recv_control(self.control, deadline)
        except (OSError, ValueError, channel.ChannelClosed, channel.Deadline) as exc:
            self.kill()
            raise WorkerDied(f"lost the warm parent: {exc}") from exc
        if "spare" in message and len(fds) == 1 and len(self.spares) < SPARES:
            self.spares.append((int(message["spare"]), fds[0]))
        else:
            for fd in fds:
                os.close(fd)
        if "reaped" in message:
            self.reaped[message["reaped"]] = message
            self.reaped = dict(list(self.reaped.items())[-8:])  # only the latest few are ever asked for
            self.parent_cpu_s = float(message.get("parent_cpu_s", self.parent_cpu_s))
        return message

    def _take_spare(self, deadline: float) -> tuple[int, int]:
        while not self.spares:
            self._message(deadline)
        return self.spares.popleft()  # the oldest: it has had the longest to warm up

    def _status_of(self, pid: int, deadline: float) -> dict | None:
        while pid not in self.reaped:
            try:
                self._message(deadline)
            except WorkerDied:
                return None
        return self.reaped.pop(pid)

    def run(self, code: str, seed: int, finite_difference: dict | None = None) -> tuple[dict, bytes | None]:
        """One program through a fresh child: (run info, result bytes or None when the child returned none).
        Raises WorkerDied when the warm parent is gone or hung."""
        if not self.alive:
            raise WorkerDied("the warm parent is not running")
        pid, fd = self._take_spare(time.monotonic() + PARENT_SLACK_S + KILL_GRACE_S)
        cpu_before = self.parent_cpu_s
        started = time.monotonic()
        deadline = started + self.options.timeout_s + KILL_GRACE_S
        since = schedstat(pid)
        stopped, interrupted = None, []
        idle_limit = self.options.idle_limit_s

        def watch():
            """A run idle past the limit is interrupted (partial trace), and stopped if it goes on idling."""
            if not idle_limit:
                return
            if interrupted:
                if time.monotonic() - interrupted[0] > KILL_GRACE_S:
                    raise Stopped("idle")
            elif off_cpu_s(pid, since, time.monotonic() - started) > idle_limit:
                channel.send_control(self.control, {"interrupt": pid})
                interrupted.append(time.monotonic())

        payload = None
        try:
            extra = {"fd": finite_difference} if finite_difference else {}  # the tracer's finite-difference option
            request = json.dumps({"op": "run", "code": code, "seed": seed, **extra}).encode("utf-8", "surrogatepass")
            channel.write_frame(fd, request)
            payload = channel.read_frame(fd, self.options.max_trace_bytes + REQUEST_HEADROOM, deadline, watch)
        except Stopped as exc:
            stopped = str(exc)
        except channel.Deadline:
            stopped = "time"
        except channel.FrameTooLarge:
            stopped = "oversized"
        except (OSError, channel.ChannelClosed):
            pass  # the child died or closed its socket: its exit status says what happened
        finally:
            os.close(fd)
        wall = round(time.monotonic() - started, 4)
        try:
            channel.send_control(self.control, {"end": pid})
        except OSError as exc:
            self.kill()
            raise WorkerDied(f"lost the warm parent: {exc}") from exc
        info = {"wall_s": wall, "killed": stopped == "time", "stopped": stopped, "pid": pid}
        if payload is None:  # no result: the child's exit status says what happened
            status = self._status_of(pid, time.monotonic() + PARENT_SLACK_S)
            if status is None:
                raise WorkerDied("the warm parent did not report a child's exit")
            info.update(status=status["status"], cpu_s=status["cpu_s"], maxrss_kb=status["maxrss_kb"])
        info["parent_cpu_s"] = round(max(0.0, self.parent_cpu_s - cpu_before), 4)
        self.runs += 1
        return info, payload

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()  # its children die with it (PR_SET_PDEATHSIG)
        self.proc.wait()
        while self.spares:
            os.close(self.spares.popleft()[1])
        if self.control is not None:
            self.control.close()
