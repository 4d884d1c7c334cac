"""The warm parent: imports torch once, then serves runs from the server, one fresh forked child each.

Started by the server with an empty environment as `python -I -m gradtrace.sandbox.zygote OPTIONS_JSON`.
Frames in on stdin, frames out on stdout (moved off fds 0/1 first so no child inherits them).
A spare child is forked and isolated while the parent waits for the next request, so fork and isolation
cost no latency. The parent never runs program code and never parses more than the child's JSON bytes.
"""
import gc
import json
import os
import select
import signal
import sys
import time

from .options import KILL_GRACE_S, Options

# Standard-library modules torch, numpy or Python import on first use (codecs for socket addresses and
# str.encode, DataLoader's worker machinery): loaded once here rather than in every child.
LAZY_IMPORTS = {"encodings.idna", "encodings.utf_16", "encodings.utf_32", "encodings.latin_1", "encodings.ascii",
                "encodings.unicode_escape", "encodings.raw_unicode_escape", "encodings.cp437", "stringprep",
                "unicodedata", "multiprocessing.queues", "multiprocessing.connection", "multiprocessing.synchronize",
                "multiprocessing.popen_fork", "queue", "difflib"}


def warm_up() -> None:
    """Import and exercise everything a run may touch, with one thread (forking after OpenMP started
    its threads deadlocks children)."""
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    import importlib

    from ..examples import examples
    from ..tracer import trace
    from .guards import policy
    from .guards.builtins import restricted_builtins

    for name in sorted(policy.ALLOWED_MODULES | LAZY_IMPORTS):  # a child may not be able to read them later
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    for ex in examples():
        trace(ex["code"], builtins=restricted_builtins())
    gc.collect()
    gc.freeze()  # children then never touch (copy) the warm objects' pages during garbage collection


class Spare:
    """A forked child, isolated and waiting for its one request."""

    def __init__(self, options: Options, ruleset_fd, expected):
        from . import channel, child

        self.area = channel.ResultArea(options.max_trace_bytes + 4096)
        read_fd, self.request_fd = os.pipe()
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:
            child.main(options, read_fd, self.area, ruleset_fd, parent, expected)
        os.close(read_fd)
        self.pidfd = os.pidfd_open(self.pid)
        self.options = options

    def run(self, request: dict) -> tuple[dict, bytes]:
        """Hand over the request and wait for a result, the child's death, or the hard limit.
        Returns (info, result bytes or None); the child is dead or dying afterwards (see reap)."""
        from . import channel

        started = time.monotonic()
        try:
            channel.write_frame(self.request_fd, json.dumps(request).encode("utf-8", "surrogatepass"))
        except OSError:
            pass  # the child is already gone; its status says why
        os.close(self.request_fd)
        deadline = started + self.options.timeout_s + KILL_GRACE_S
        payload, exited = None, False
        while payload is None and not exited:
            # A child exits only after its result is written; peeking at the result area first saves the
            # few milliseconds its address space takes to tear down.
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            poll = 0.0005 if time.monotonic() - started < 0.2 else 0.01  # fine-grained while runs are typical
            exited = bool(select.select([self.pidfd], [], [], min(poll, remaining))[0])
            payload = self.area.take()
        self.killed = payload is None and not exited
        if not exited:
            os.kill(self.pid, signal.SIGKILL)  # its work is done (or its time is up)
        self.info = {"wall_s": round(time.monotonic() - started, 4), "killed": self.killed}
        return self.info, payload

    def reap(self) -> dict:
        """Collect the dead child (after the answer went out, so its teardown costs no latency)."""
        _, status, usage = os.wait4(self.pid, 0)
        try:
            os.killpg(self.pid, signal.SIGKILL)  # anything it managed to start despite the layers
        except OSError:
            pass
        os.close(self.pidfd)
        self.area.close()
        self.info.update(status=status, cpu_s=round(usage.ru_utime + usage.ru_stime, 3), maxrss_kb=usage.ru_maxrss)
        return self.info


def _explain(spare: Spare, options: Options) -> bytes:
    from .results import death_trace

    info = spare.reap()
    return json.dumps(death_trace(info["status"], info["cpu_s"], info["killed"], options.death_limits())).encode()


def probe(options: Options, ruleset_fd) -> dict:
    spare = Spare(options, ruleset_fd, None)
    info, payload = spare.run({"op": "probe"})
    info = spare.reap()
    if payload is None:
        return {"layers": {}, "errors": {"probe": f"probe child died: {info}"}, "checks": {}}
    return json.loads(payload)


def main() -> None:
    from . import channel
    from .layers import landlock

    options = Options(**json.loads(sys.argv[1]))
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.chdir("/")
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    warm_up()
    try:
        ruleset_fd, landlock_info = landlock.create_ruleset(options.read_paths)
    except OSError as exc:
        ruleset_fd, landlock_info = None, {"error": str(exc)}
    report = probe(options, ruleset_fd)
    report["landlock_info"] = landlock_info
    report["language_guards"] = options.language_guards
    report["pid"] = os.getpid()
    expected = {name: True for name, on in report["layers"].items() if on}
    if options.language_guards:
        from .guards import refusals

        refusals.install()  # once here rather than in every child; the warm parent runs no more torch code
    channel.write_frame(wfd, json.dumps({"ready": report}).encode())
    serve(options, rfd, wfd, ruleset_fd, expected)


def serve(options: Options, rfd: int, wfd: int, ruleset_fd, expected: dict) -> None:
    """Request loop. Finished children are reaped while waiting for the next request, not before
    answering, so their teardown overlaps the server's work."""
    from . import channel

    spare, dying = None, []
    while True:
        if spare is None:
            spare = Spare(options, ruleset_fd, expected)
        while True:
            ready = select.select([rfd] + [d.pidfd for d in dying], [], [])[0]
            for done in [d for d in dying if d.pidfd in ready]:
                done.reap()
                dying.remove(done)
            if rfd in ready:
                break
        try:
            request = json.loads(channel.read_frame(rfd))
        except channel.ChannelClosed:
            return  # the server went away: so do we (the spare dies with us)
        if request.get("op") != "run":
            channel.write_frame(wfd, json.dumps({"pong": True}).encode())
            continue
        info, payload = spare.run({"op": "run", "code": request["code"], "seed": request.get("seed", 0), "fd": request.get("fd")})
        if payload is None:  # no result: the child's exit status says what happened
            payload = _explain(spare, options)
        else:
            dying.append(spare)
        channel.write_frame(wfd, json.dumps(info).encode())
        channel.write_frame(wfd, payload)
        spare = None


if __name__ == "__main__":
    main()
