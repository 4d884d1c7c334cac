"""The two channels of the sandbox: length-prefixed frames over pipes (server <-> warm parent, parent ->
child request), and the result area a child fills after the program has ended.

The result area is a shared anonymous mapping made by the warm parent before the fork: it is not a file
descriptor, so nothing the program writes to stdout, stderr or any fd can land in it, and the parent reads
a snapshot of it, either once the child is dead or as soon as a complete result shows up (header written
last, with a checksum, so a torn or half-written result is never taken).
"""
import mmap
import os
import struct
import zlib

MAGIC = b"GTRACE01"
_HEADER = struct.Struct("<8sQI4x")  # magic, payload length, crc32 of the payload
_LEN = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


class ChannelClosed(Exception):
    """The other side went away (EOF) in the middle of or before a frame."""


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
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


def read_frame(fd: int) -> bytes:
    (n,) = _LEN.unpack(_read_exact(fd, _LEN.size))
    if n > MAX_FRAME:
        raise ChannelClosed(f"frame of {n} bytes is larger than allowed")
    return _read_exact(fd, n)


class ResultArea:
    """A fresh shared mapping per child: `capacity` bytes of payload after a 16-byte header."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.map = mmap.mmap(-1, _HEADER.size + capacity, flags=mmap.MAP_SHARED)

    def put(self, payload: bytes) -> bool:
        """Child side: store the payload; False when it does not fit."""
        if len(payload) > self.capacity:
            return False
        self.map[_HEADER.size:_HEADER.size + len(payload)] = payload
        self.map[:_HEADER.size] = _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload))
        return True

    def take(self) -> bytes | None:
        """Parent side: a snapshot of a complete payload, or None when there is none (yet)."""
        magic, n, crc = _HEADER.unpack(self.map[:_HEADER.size])
        if magic != MAGIC or n > self.capacity:
            return None
        payload = bytes(self.map[_HEADER.size:_HEADER.size + n])
        return payload if zlib.crc32(payload) == crc else None

    def close(self) -> None:
        self.map.close()
