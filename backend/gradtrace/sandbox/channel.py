"""The sandbox's channels. Two kinds, and the warm parent is on neither's data path:

- control: a SOCK_SEQPACKET socketpair between the server and one warm parent. The parent sends
  "ready", "spare" (with the new child's run socket attached by SCM_RIGHTS) and "reaped" messages; the
  server sends only "end <pid>". No program, result or run data ever crosses it.
- run: a socketpair made by the warm parent for one child just before forking it. The child keeps its end;
  the parent hands the other end to the server and closes its own copy. The server writes the request and
  reads the result frame on it directly, bounded in size before anything is parsed.
"""
import json
import os
import select
import socket
import struct
import time

_LEN = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
CONTROL_MAX = 1 << 16  # a control message is small JSON


class ChannelClosed(Exception):
    """The other side went away (EOF) in the middle of or before a frame."""


class FrameTooLarge(Exception):
    """A frame header announced more bytes than the reader accepts (nothing more is read)."""


class Deadline(Exception):
    """The frame did not arrive in time."""


def _read_exact(fd: int, n: int, deadline: float | None = None, on_wait=None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Deadline(f"{got} of {n} bytes before the deadline")
                if select.select([fd], [], [], min(remaining, 0.1 if on_wait else remaining))[0]:
                    break
                if on_wait is not None:
                    on_wait()
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise ChannelClosed(f"EOF after {got} of {n} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, payload: bytes) -> None:
    data = _LEN.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_frame(fd: int, max_bytes: int = MAX_FRAME, deadline: float | None = None, on_wait=None) -> bytes:
    """One length-prefixed frame; the length is checked against max_bytes before the payload is read.
    With a deadline, `on_wait()` is called about every 0.1 s while nothing arrives (it may raise)."""
    (n,) = _LEN.unpack(_read_exact(fd, _LEN.size, deadline, on_wait))
    if n > max_bytes:
        raise FrameTooLarge(f"frame of {n} bytes announced; at most {max_bytes} accepted")
    return _read_exact(fd, n, deadline, on_wait)


def send_control(sock: socket.socket, message: dict, fds: list[int] = ()) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.send(data)


def recv_control(sock: socket.socket, deadline: float | None = None) -> tuple[dict, list[int]]:
    """The next control message and the fds attached to it; ChannelClosed on EOF, Deadline on timeout."""
    if deadline is not None:
        remaining = max(0.0, deadline - time.monotonic())
        if not select.select([sock], [], [], remaining)[0]:
            raise Deadline("no control message in time")
    data, fds, _, _ = socket.recv_fds(sock, CONTROL_MAX, 4)
    if not data:
        for fd in fds:
            os.close(fd)
        raise ChannelClosed("the other side closed the control channel")
    return json.loads(data), fds
