"""The warm parent as it was before issue 12, kept only as a test fixture to show the cross-run attacks are
real: it relays each program to a child and each result back, so its heap and its serve() frame hold the
previous run's program, result and timing, and every child it forks (the spare, forked before the next
request arrives) inherits them, together with the previous child's shared result area, still mapped.

Run as `python legacy.py`: frames in on stdin ({"code": ...}), frames out on stdout (the child's stdout).
The child is not isolated here (the attacks only read their own process) and runs the program with exec.
"""
import contextlib
import io
import json
import mmap
import os
import select
import struct

_LEN = struct.Struct(">I")


def read_frame(fd):
    head = os.read(fd, 4)
    if len(head) < 4:
        raise EOFError
    (n,) = _LEN.unpack(head)
    data = b""
    while len(data) < n:
        data += os.read(fd, n - len(data))
    return data


def write_frame(fd, payload):
    os.write(fd, _LEN.pack(len(payload)) + payload)


class Spare:
    """As before: a shared result area made by the parent, a request pipe, the child forked at once."""

    def __init__(self):
        self.area = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_SHARED)
        read_fd, self.request_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.request_fd)  # so a spare left waiting sees EOF when its parent exits
            try:
                request = json.loads(read_frame(read_fd))
            except EOFError:
                os._exit(0)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                try:
                    exec(compile(request["code"], "<program>", "exec"), {"__name__": "__main__"})
                except BaseException as exc:  # noqa: BLE001
                    print("error:", type(exc).__name__, exc)
            data = json.dumps({"stdout": out.getvalue()}).encode()
            self.area[:8] = len(data).to_bytes(8, "little")
            self.area[8:8 + len(data)] = data
            os._exit(0)
        os.close(read_fd)

    def run(self, request):
        write_frame(self.request_fd, json.dumps(request).encode())
        os.close(self.request_fd)
        os.waitpid(self.pid, 0)
        n = int.from_bytes(self.area[:8], "little")
        return {"wall_s": 0.01}, bytes(self.area[8:8 + n])


def serve(rfd, wfd):
    spare, dying = None, []
    while True:
        if spare is None:
            spare = Spare()
        select.select([rfd], [], [])
        try:
            request = json.loads(read_frame(rfd))
        except EOFError:
            return
        info, payload = spare.run({"op": "run", "code": request["code"]})
        dying.append(spare)  # as before: areas of finished children stay mapped until reaped later
        dying = dying[-2:]
        write_frame(wfd, payload)
        spare = None


if __name__ == "__main__":
    rfd, wfd = os.dup(0), os.dup(1)
    serve(rfd, wfd)
