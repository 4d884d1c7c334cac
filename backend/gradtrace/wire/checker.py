"""One process of the check pool (wire/pool.py): reads tasks from its socket, runs each under a CPU cap, answers.

Started as a fresh interpreter (`python -c BOOT fd`): it imports only the wire modules (no torch, no copy of the
server). Its first frame is the server's sys.path. A task is a length-prefixed frame from the server (trusted:
a pickle of (function, args, CPU cap), then one raw bytes argument, the run's unchecked result, sent as it is
so it is never pickled or copied on the server's side). The answer is never a pickle: a JSON head (CPU used,
error, the parts' kinds and sizes) followed by the raw parts, so the server parses nothing but a small JSON.
"""
import json
import os
import pickle
import signal
import socket
import struct
import sys
import time

HEAD = struct.Struct(">II")  # a task: pickle size, raw argument size
LEN = struct.Struct(">I")  # an answer: head size
NICE = 10  # below the server's own process: the event loop is served first when the cores are busy

# The interpreter's first code: the server's sys.path (so it finds gradtrace and, in tests, test modules), then serve.
BOOT = ("import os, pickle, struct, sys; fd = int(sys.argv[1]); n = struct.unpack('>I', os.read(fd, 4))[0]; "
        "data = b''\nwhile len(data) < n: data += os.read(fd, n - len(data))\n"
        "sys.path[:] = pickle.loads(data); from gradtrace.wire.checker import serve; serve(fd)")


class Raw:
    """Stands for the raw argument in a task's pickled args."""


class CpuExceeded(Exception):
    """A task used more than its CPU cap."""


def _on_prof(signum, frame):
    raise CpuExceeded("the task used more CPU than allowed")


def run_capped(cap_s: float, fn, *args):
    """Run `fn(*args)` under a CPU cap (SIGPROF); returns (result, CPU seconds used)."""
    started = time.process_time()
    signal.signal(signal.SIGPROF, _on_prof)
    signal.setitimer(signal.ITIMER_PROF, cap_s)
    try:
        return fn(*args), time.process_time() - started
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def encode_answer(result, cpu: float, error: dict | None = None) -> list[bytes]:
    """The answer's buffers: head length, JSON head, then each part (bytes "b", JSON "j", None "n")."""
    items = result if isinstance(result, tuple) else (result,)
    kinds, parts = [], []
    for item in items if error is None else ():
        if item is None:
            kinds.append("n")
        elif isinstance(item, (bytes, bytearray)):
            kinds.append("b")
            parts.append(bytes(item))
        else:
            kinds.append("j")
            parts.append(json.dumps(item, separators=(",", ":")).encode())
    head = json.dumps({"cpu": cpu, "error": error, "tuple": isinstance(result, tuple), "kinds": kinds,
                       "sizes": [len(p) for p in parts]}).encode()
    return [LEN.pack(len(head)), head, *parts]


def decode_answer(head: dict, body: memoryview):
    """(result, CPU seconds) from a parsed head and the bytes after it (the server's side of encode_answer)."""
    items, at, sizes = [], 0, iter(head["sizes"])
    for kind in head["kinds"]:
        if kind == "n":
            items.append(None)
            continue
        size = next(sizes)
        part = bytes(body[at:at + size])
        at += size
        items.append(part if kind == "b" else json.loads(part))
    return (tuple(items) if head["tuple"] else items[0]), float(head["cpu"])


def _error_of(exc: BaseException) -> dict:
    from . import check, render

    if isinstance(exc, CpuExceeded):
        return {"kind": "cpu"}
    if isinstance(exc, render.TooLarge):
        return {"kind": "too_large", "size": exc.size, "cap": exc.cap}
    if isinstance(exc, check.Invalid):
        return {"kind": "invalid", "message": str(exc)[:500]}
    if isinstance(exc, MemoryError):
        return {"kind": "memory"}
    return {"kind": "other", "type": type(exc).__name__, "message": str(exc)[:500]}


def _read_exact(sock: socket.socket, n: int) -> bytearray:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if not k:
            raise EOFError
        got += k
    return buf


def serve(fd: int) -> None:
    """Answer tasks until the server closes the socket."""
    from . import check, render  # noqa: F401 - imported before the first task, not during it

    try:
        os.nice(NICE)
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the server's terminal: the server ends us (EOF)
    sock = socket.socket(fileno=fd)
    while True:
        try:
            n_pickle, n_raw = HEAD.unpack(_read_exact(sock, HEAD.size))
            fn, args, cap = pickle.loads(_read_exact(sock, n_pickle))
            raw = bytes(_read_exact(sock, n_raw)) if n_raw else None
        except (EOFError, OSError):
            return
        args = tuple(raw if isinstance(a, Raw) else a for a in args)
        cpu_before = time.process_time()
        try:
            result, cpu = run_capped(cap, fn, *args)
            answer = encode_answer(result, cpu)
        except BaseException as exc:  # noqa: BLE001 - every failure is an answer; the server decides what it means
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            answer = encode_answer(None, time.process_time() - cpu_before, _error_of(exc))
        del args, raw
        try:
            sock.sendmsg(answer) if sum(map(len, answer)) < 1 << 16 else sock.sendall(b"".join(answer))
        except OSError:
            return


if __name__ == "__main__":
    sys.exit("started by gradtrace.wire.pool")
