"""The warm parent: imports torch once, then serves runs from the server, one fresh forked child each.

Started by the server with an empty environment as `python -I -m gradtrace.sandbox.zygote CONTROL_FD OPTIONS`.
It never sees user data: a spare child is forked and isolated ahead of time with its own fresh run socket,
whose other end goes straight to the server (SCM_RIGHTS); the server sends the program and reads the result
on it. So no program, result or earlier child's channel is ever in this process, nor in any child forked
from it. The parent's only messages are "spare <pid>", "reaped <pid> status cpu" and, from the server, "end <pid>"
and "interrupt <pid>".
"""
import gc
import json
import os
import resource
import select
import signal
import socket
import sys
import time

from .options import SPARES, Options

# Standard-library modules torch, numpy or Python import on first use (codecs for socket addresses and
# str.encode, DataLoader's worker machinery): loaded once here rather than in every child.
LAZY_IMPORTS = {"encodings.idna", "encodings.utf_16", "encodings.utf_32", "encodings.latin_1", "encodings.ascii",
                "encodings.unicode_escape", "encodings.raw_unicode_escape", "encodings.cp437", "stringprep",
                "unicodedata", "multiprocessing.queues", "multiprocessing.connection", "multiprocessing.synchronize",
                "multiprocessing.popen_fork", "queue", "difflib"}


def warm_up(gallery: bool = True) -> None:
    """Import and exercise everything a run may touch, with one thread (forking after OpenMP started
    its threads deadlocks children); `gallery` off (test pools) skips tracing the examples."""
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
    for ex in examples() if gallery else ():
        trace(ex["code"], builtins=restricted_builtins())
    gc.collect()
    gc.freeze()  # children then never touch (copy) the warm objects' pages during garbage collection


def fork_child(options: Options, ruleset_fd, expected, warm: bool = True) -> tuple[int, int, int]:
    """Fork one isolated child with its own fresh run socket: (pid, pidfd, server's end of the socket).
    The child keeps the other end; nothing else of this process's channels reaches it. `warm`: it runs the
    trusted warm-up pieces while it waits (pretouch.py)."""
    from . import child

    server_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        server_end.close()
        child.main(options, child_end.detach(), ruleset_fd, parent, expected, warm)
    child_end.close()
    return pid, os.pidfd_open(pid), server_end.detach()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def probe(options: Options, ruleset_fd) -> dict:
    """The startup self-check: which layers a child gets (no program involved)."""
    from . import channel

    pid, pidfd, fd = fork_child(options, ruleset_fd, None)
    try:
        channel.write_frame(fd, json.dumps({"op": "probe"}).encode())
        report = json.loads(channel.read_frame(fd, 1 << 20, time.monotonic() + 60))
    except (OSError, ValueError, channel.ChannelClosed, channel.Deadline, channel.FrameTooLarge) as exc:
        report = {"layers": {}, "errors": {"probe": f"probe child failed: {exc}"}, "checks": {}}
    os.close(fd)
    _kill(pid, pidfd)
    os.waitpid(pid, 0)
    os.close(pidfd)
    return report


def _kill(pid: int, pidfd: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the child leads its own group (setsid), also while still a zombie
    except OSError:
        pass
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass


def main() -> None:
    from . import channel
    from .layers import landlock

    options = Options(**json.loads(sys.argv[2]))
    control = socket.socket(fileno=int(sys.argv[1]))
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.chdir("/")
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    warm_up(options.warm_gallery)
    try:
        ruleset_fd, landlock_info = landlock.create_ruleset(options.read_paths)
    except OSError as exc:
        ruleset_fd, landlock_info = None, {"error": str(exc)}
    from .layers import seccomp

    seccomp.prepare()  # each child then only writes its pid into the packed filter
    report = probe(options, ruleset_fd)
    report["landlock_info"] = landlock_info
    report["language_guards"] = options.language_guards
    report["pid"] = os.getpid()
    expected = {name: True for name, on in report["layers"].items() if on}
    if options.language_guards:
        from .guards import refusals

        refusals.install()  # once here rather than in every child; the warm parent runs no more torch code
    gc.collect()
    gc.freeze()  # what the probe and the refusals made, too: a child's collections never touch (copy) it
    if options.hugepages:  # last: every page a fork would copy an entry for is in place now
        from . import hugepages

        report["hugepages"] = hugepages.collapse()
    channel.send_control(control, {"ready": report})
    serve(options, control, ruleset_fd, expected)


def spare_warms(pressure: float | None, options: Options) -> bool:
    """Whether the next spare runs its warm-up pieces: not when the CPUs were busy since the last spare (the
    pieces would take CPU from runs); when that cannot be told, it does."""
    return options.pretouch_pieces > 0 and (pressure is None or pressure <= options.pretouch_max_cpu_pressure)


def serve(options: Options, control: socket.socket, ruleset_fd, expected: dict) -> None:
    """Fork a spare, hand its run socket to the server, and wait for "end <pid>" (kill it, fork the next)
    or a child's exit (reap it, report its status and CPU time). Nothing here ever holds run data."""
    from . import channel
    from .pressure import CpuPressure

    children: dict[int, int] = {}  # pid -> pidfd, until reaped
    spares: set[int] = set()  # handed to the server, not yet ended by it
    pressure = CpuPressure()
    while True:
        while len(spares) < SPARES:
            warm = spare_warms(pressure.since_last(), options)
            spare, pidfd, server_end = fork_child(options, ruleset_fd, expected, warm)
            children[spare] = pidfd
            spares.add(spare)
            channel.send_control(control, {"spare": spare}, [server_end])
            os.close(server_end)
        by_fd = {fd: pid for pid, fd in children.items()}
        ready = select.select([control] + list(by_fd), [], [])[0]
        for fd in ready:
            if fd in by_fd:
                pid = by_fd[fd]
                _, status, usage = os.wait4(pid, 0)
                os.close(children.pop(pid))
                channel.send_control(control, {"reaped": pid, "status": status, "maxrss_kb": usage.ru_maxrss,
                                               "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
                                               "parent_cpu_s": round(_cpu_s(), 4)})
        if control in ready:
            try:
                message, fds = channel.recv_control(control)
            except channel.ChannelClosed:
                return  # the server went away: so do we (children die with us: PR_SET_PDEATHSIG)
            for fd in fds:
                os.close(fd)  # the server never sends descriptors; drop any
            if message.get("interrupt") in children:  # the run sleeps instead of computing: soft stop
                try:
                    signal.pidfd_send_signal(children[message["interrupt"]], signal.SIGUSR1)
                except OSError:
                    pass
            pid = message.get("end")
            if pid in children:
                _kill(pid, children[pid])
            spares.discard(pid)


if __name__ == "__main__":
    main()
