"""Cross-run leakage: run N plants a token, run N+1 looks for it in its own process, four ways (frames
walked by a format string or f_back, objects reachable from gc, shared mappings, a raw scan of every
readable page listed in /proc/self/maps). The searching program never holds the token itself: it knows
only its SHA-256, so any match it reports came from memory it inherited. Each prints `LEAKS <count>`
(and `SELF <count>` where it first finds a token it planted itself, so a scan that finds nothing is shown
to be able to find something).
"""
import hashlib
import json
import os
import secrets
import struct
import subprocess
import sys
from pathlib import Path

PREFIX = "GTLEAK"


def new_token() -> tuple[str, str]:
    """(token, sha256 of its tail): the token goes into run N, the hash into run N+1."""
    tail = secrets.token_hex(12)
    return PREFIX + tail, hashlib.sha256(tail.encode()).hexdigest()


def plant(token: str) -> str:
    """Run N: the token is in the program text, a variable, a tensor's name and the printed output."""
    return f'secret = "{token}"\nnotes = [secret * 3, {{"k": secret}}]\nprint(secret)\n'


HITS = '''
import hashlib
H = "{hash}"
def hits(data, h=H):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    n, i = 0, data.find(b"GTLEAK")
    while i != -1:
        if hashlib.sha256(bytes(data[i + 6:i + 30])).hexdigest() == h:
            n += 1
        i = data.find(b"GTLEAK", i + 1)
    return n
'''

SELF_TOKEN = '''
import os as _os
_tail = _os.urandom(12).hex()
mine = "GTLEAK" + _tail
MINE = hashlib.sha256(_tail.encode()).hexdigest()
'''

# Readable pages copied through a pipe: write() fails with EFAULT on a page that cannot be read, instead
# of crashing the process.
PAGES = '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.write.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
libc.write.restype = ctypes.c_ssize_t
rp, wp = os.pipe()
def pages(lo, hi):
    addr = lo
    while addr < hi:
        n = min(65536, hi - addr)
        got = libc.write(wp, addr, n)
        if got <= 0 and n > 4096:
            n = 4096
            got = libc.write(wp, addr, n)
        if got <= 0:
            addr += 4096
            continue
        data = b""
        while len(data) < got:
            data += os.read(rp, got - len(data))
        yield data
        addr += got
def mappings(only_shared=False):
    for line in open("/proc/self/maps"):
        parts = line.split()
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        name = parts[5] if len(parts) > 5 else ""
        if parts[1][0] != "r" or name in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
            continue
        if only_shared and parts[1][3] != "s":
            continue
        yield lo, hi
def scan(only_shared=False):
    found, mine_found, tail = 0, 0, b""
    for lo, hi in mappings(only_shared):
        tail = b""
        for data in pages(lo, hi):
            buf = tail + data
            found += hits(buf)
            mine_found += hits(buf, MINE)
            tail = buf[-40:]
    return found, mine_found
'''

ATTACKS = {
    # A format string assembled at run time walks from a traceback up every frame, printing their locals.
    "frame_walk_format": HITS + '''
try:
    1 / 0
except Exception as e:
    err = e
found = 0
for n in range(200):
    spec = "{0." + "_" * 2 + "traceback" + "_" * 2 + ".tb_frame" + ".f_back" * n + ".f_locals}"
    try:
        found += hits(spec.format(err))
    except Exception:
        break
print("LEAKS", found)
''',
    # The same walk with f_back, looking at every local's repr and at the frames' globals.
    "frame_walk_f_back": HITS + '''
import sys
frame, found = sys._getframe(), 0
while frame is not None:
    for value in list(frame.f_locals.values()):
        try:
            found += hits(repr(value))
        except Exception:
            pass
    frame = frame.f_back
print("LEAKS", found)
''',
    # Result areas (mmap objects) reachable from gc, read out.
    "gc_result_areas": HITS + '''
import gc, mmap
found, areas = 0, 0
for obj in gc.get_objects():
    for value in ([obj] + list(vars(obj).values()) if hasattr(obj, "__dict__") else [obj]):
        if isinstance(value, mmap.mmap) and not value.closed:
            areas += 1
            found += hits(value[:])
print("LEAKS", found, "AREAS", areas)
''',
    # Shared mappings inherited from the parent (a previous child's result area), read page by page.
    "shared_mappings": HITS + SELF_TOKEN + PAGES + '''
found, _ = scan(only_shared=True)
print("LEAKS", found)
''',
    # Every readable page of the process.
    "heap_scan": HITS + SELF_TOKEN + PAGES + '''
found, mine_found = scan()
print("LEAKS", found, "SELF", mine_found)
''',
}


def attack(name: str, token_hash: str) -> str:
    return ATTACKS[name].replace("{hash}", token_hash)


def leaks(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("LEAKS "):
            return int(line.split()[1])
    raise AssertionError(f"the attack did not report: {stdout[-500:]!r}")


def self_hits(stdout: str) -> int | None:
    for line in stdout.splitlines():
        if " SELF " in line:
            return int(line.split(" SELF ")[1].split()[0])
    return None


class LegacyParent:
    """The pre-issue-12 warm parent (tests/security/legacy.py) as a subprocess: run(code) -> stdout."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("legacy.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)

    def run(self, code: str) -> str:
        data = json.dumps({"code": code}).encode()
        self.proc.stdin.write(struct.pack(">I", len(data)) + data)
        (n,) = struct.unpack(">I", self.proc.stdout.read(4))
        return json.loads(self.proc.stdout.read(n))["stdout"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def env_without_secrets() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("GRADTRACE_TEST")}
