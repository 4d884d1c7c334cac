"""A bounded pool of worker processes that check, convert and encode results: nothing a program controls runs on
the server's event loop (or holds its GIL). Each task has a CPU cap; each client a CPU budget (a token bucket)
and one task at a time, so one client's hostile results slow that client down, not the class.

The event loop talks to each process over its own socket (wire/checker.py): the run's bytes go out as they are
and the answer comes back as raw parts, with no thread between (a ProcessPoolExecutor hops through a feeder and
a manager thread each way, each a GIL hand-over that costs milliseconds on a busy machine)."""
import asyncio
import json
import logging
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections import deque

from . import check, checker, render

log = logging.getLogger("gradtrace.wire")
CpuExceeded = checker.CpuExceeded
_ONE_WRITE = 1 << 16  # a task whose frame is at most this is sent in one write (the copy costs less than a wake-up)
_FIRST_READ = 1 << 16  # most answers (a small program's compact trace) arrive in one read of this size
_MAX_HEAD = 1 << 16  # an answer's JSON head: CPU, error, a few parts' kinds and sizes
_DIED = "the result checker's process died (out of memory?)"


class Died(Exception):
    """The checker process closed its socket (or could not be written to) in the middle of a task."""


class Proc:
    """One checker process (a fresh interpreter: no torch, no copy of the server) and the server's end of its socket."""

    def __init__(self, max_answer: int = 1 << 30):
        self.max_answer = max_answer  # the answer's announced size is checked against it before anything is read
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", checker.BOOT, str(theirs.fileno())],
                                         pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        path = pickle.dumps(list(sys.path))
        ours.sendall(checker.LEN.pack(len(path)) + path)  # small: the socket's buffer takes it before the child reads
        ours.setblocking(False)
        self.sock = ours
        self.broken = False

    @property
    def alive(self) -> bool:
        return not self.broken and self.proc.poll() is None

    async def call(self, loop, cap_s: float, fn, args: tuple):
        """(answer head, result, CPU seconds) of `fn(*args)` in the process; Died when it is gone."""
        raw, sent = b"", []
        for a in args:  # the first bytes argument travels raw after the pickle: never pickled, never copied here
            if not raw and isinstance(a, bytes) and a:
                raw = a
                sent.append(checker.Raw())
            else:
                sent.append(a)
        task = pickle.dumps((fn, tuple(sent), cap_s), protocol=pickle.HIGHEST_PROTOCOL)
        head = checker.HEAD.pack(len(task), len(raw)) + task
        try:
            if len(raw) <= _ONE_WRITE:  # one write: the process wakes once for the whole task
                await loop.sock_sendall(self.sock, head + raw)
            else:  # a big frame is not copied to be glued to its head
                await loop.sock_sendall(self.sock, head)
                await loop.sock_sendall(self.sock, raw)
            head, body = await self._answer(loop)
        except BaseException as exc:  # mid-task: the socket's state is unknown, so this process is not used again
            self.broken = True
            if isinstance(exc, Exception):  # gone, closed, or an answer that is not one (too big, garbled)
                raise Died(str(exc)[:300]) from None
            raise
        if head.get("error"):
            return head, None, float(head["cpu"])
        result, cpu = checker.decode_answer(head, body)
        return head, result, cpu

    async def _answer(self, loop) -> tuple[dict, memoryview]:
        buf, got = bytearray(_FIRST_READ), 0

        async def fill(upto: int):
            nonlocal buf, got
            if upto > len(buf):  # only answers over _FIRST_READ are copied once into a buffer of their size
                bigger = bytearray(upto)
                bigger[:got] = buf[:got]
                buf = bigger
            while got < upto:
                k = await loop.sock_recv_into(self.sock, memoryview(buf)[got:])
                if not k:
                    raise EOFError("the checker process closed its socket")
                got += k

        await fill(checker.LEN.size)
        n_head = checker.LEN.unpack_from(buf)[0]
        start = checker.LEN.size + n_head
        if n_head > _MAX_HEAD:
            raise ValueError(f"the checker announced a head of {n_head} bytes")
        await fill(start)
        head = json.loads(bytes(buf[checker.LEN.size:start]))
        size = sum(head["sizes"])
        if size > self.max_answer:
            raise ValueError(f"the checker announced an answer of {size} bytes; at most {self.max_answer} accepted")
        await fill(start + size)
        return head, memoryview(buf)[start:]

    def kill(self) -> None:
        self.broken = True
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.poll()


def check_render(result, limit: int, fmt: str, version: int, key: str, cap: int):
    canonical, meta = check.check_trace(result, limit) if isinstance(result, dict) else check.check_frame(result, limit)
    try:
        body = render.render(canonical, fmt, version, key, cap)
    except render.TooLarge:
        body = None
    return canonical, meta, body


class Budget:
    """CPU seconds per client: `burst` to start with, refilled at `rate` per second; a client in debt waits."""

    def __init__(self, rate: float, burst: float, max_clients: int = 10_000):
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._credit: dict[str, tuple[float, float]] = {}  # client -> (credit, when)

    def credit(self, client: str) -> float:
        credit, when = self._credit.get(client, (self.burst, time.monotonic()))
        return min(self.burst, credit + (time.monotonic() - when) * self.rate)

    def wait_s(self, client: str) -> float:
        """Seconds until the client's credit is back at zero (0 when it has credit)."""
        return max(0.0, -self.credit(client) / self.rate) if self.rate > 0 else 0.0

    def charge(self, client: str, cpu_s: float) -> None:
        self._credit[client] = (self.credit(client) - cpu_s, time.monotonic())
        if len(self._credit) > self.max_clients:  # forget the full ones first: they owe nothing
            for key in [k for k in self._credit if self.credit(k) >= self.burst][: len(self._credit) // 2]:
                del self._credit[key]


class CheckPool:
    """`await pool.check(payload_or_trace, client)` → (canonical bytes, meta); `await pool.render(...)` → bytes."""

    def __init__(self, settings):
        self.settings = settings
        self.size = max(1, settings.check_workers)
        self.budget = Budget(settings.check_client_cpu_share, settings.check_client_cpu_burst_s)
        self._per_client: dict[tuple[int, str], asyncio.Lock] = {}
        self._lock = threading.Lock()  # the process lists: a bare TestClient may call from several loops' threads
        self._procs: list[Proc] = []
        self._idle: list[Proc] = []
        self._waiters: deque[asyncio.Future] = deque()
        self._closed = False
        # an answer holds the canonical trace (about a run's frame) and one rendered form (capped): far below this
        self.max_answer = 2 * (settings.max_trace_bytes + settings.max_answer_bytes) + (1 << 20)
        self.cpu_s = 0.0
        self.tasks = self.broken = 0

    def start(self) -> None:
        """Start every process now (they import the wire modules while the server starts), not at the first run."""
        with self._lock:
            try:
                while len(self._procs) < self.size:
                    proc = Proc(self.max_answer)
                    self._procs.append(proc)
                    self._idle.append(proc)
            except OSError as exc:  # e.g. out of processes or files: the first runs start them instead
                log.warning("result checker processes not started ahead: %s", exc)

    async def _acquire(self) -> Proc:
        with self._lock:
            while self._idle:
                proc = self._idle.pop()
                if proc.alive:
                    return proc
                self._drop(proc)
            if len(self._procs) < self.size:
                proc = Proc(self.max_answer)
                self._procs.append(proc)
                return proc
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed over just as the waiter gave up: pass it on
            raise

    def _drop(self, proc: Proc) -> None:
        """Forget a dead or broken process (caller holds the lock)."""
        proc.kill()
        if proc in self._procs:
            self._procs.remove(proc)
            self.broken += 1

    def _release(self, proc: Proc) -> None:
        with self._lock:
            if not proc.alive:
                self._drop(proc)
                if not self._waiters or self._closed:
                    return
                proc = Proc(self.max_answer)  # someone is waiting: its replacement goes straight to them
                self._procs.append(proc)
            if self._closed:
                proc.kill()
                return
            while self._waiters:
                waiter = self._waiters.popleft()
                if waiter.done():
                    continue
                try:
                    here = asyncio.get_running_loop() is waiter.get_loop()
                except RuntimeError:
                    here = False
                if here:
                    waiter.set_result(proc)
                else:
                    waiter.get_loop().call_soon_threadsafe(self._hand, waiter, proc)
                return
            self._idle.append(proc)

    def _hand(self, waiter: asyncio.Future, proc: Proc) -> None:
        if waiter.done():
            self._release(proc)
        else:
            waiter.set_result(proc)

    async def _call(self, client: str | None, fn, *args):
        key = client or ""
        loop = asyncio.get_running_loop()
        slot = (id(loop), key)  # an asyncio.Lock belongs to one loop (a server has one; a bare TestClient one per request)
        lock = self._per_client.setdefault(slot, asyncio.Lock())
        try:
            async with lock:  # one task per client at a time: others' results are never queued behind a flood
                wait = self.budget.wait_s(key)
                if wait:
                    await asyncio.sleep(wait)
                proc = await self._acquire()
                exchange = loop.create_task(proc.call(loop, self.settings.check_task_cpu_s, fn, args))
                exchange.add_done_callback(lambda _: self._release(proc))
                try:
                    # shield: a client that hangs up leaves the exchange to finish, so the process is reused
                    head, result, cpu = await asyncio.shield(exchange)
                except Died:
                    raise check.Invalid(_DIED) from None
                error = head.get("error")
                if error and error.get("kind") == "cpu":
                    cpu = self.settings.check_task_cpu_s
                self.budget.charge(key, cpu)
                self.cpu_s += cpu
                self.tasks += 1
                if error:
                    raise _exception(error)
                return result
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._per_client.pop(slot, None)

    async def check(self, result: bytes | dict, client: str | None = None) -> tuple[bytes, dict]:
        limit = self.settings.max_tensor_elements
        if isinstance(result, dict):
            return await self._call(client, check.check_trace, result, limit)
        return await self._call(client, check.check_frame, result, limit)

    async def check_render(self, result: bytes | dict, fmt: str, version: int, key: str,
                           client: str | None = None) -> tuple[bytes, dict, bytes | None]:
        """check() and render() in one trip to the pool (what a fresh run needs): (canonical, meta, body).
        The body is None when it is over max_answer_bytes (render() then raises TooLarge for the caller)."""
        limit, cap = self.settings.max_tensor_elements, self.settings.max_answer_bytes
        if fmt == "compact" and version == 1:
            canonical, meta = await self.check(result, client)
            return canonical, meta, None
        return await self._call(client, check_render, result, limit, fmt, version, key, cap)

    async def render(self, canonical: bytes, fmt: str, version: int, key: str, client: str | None = None) -> bytes:
        if fmt == "compact" and version == 1:  # a copy with the key spliced in: no parsing, no pool trip
            body = render.with_key(canonical, key)
            if len(body) > self.settings.max_answer_bytes:
                raise render.TooLarge(len(body), self.settings.max_answer_bytes)
            return body
        return await self._call(client, render.render, canonical, fmt, version, key, self.settings.max_answer_bytes)

    def stats(self) -> dict:
        return {"workers": self.size, "tasks": self.tasks, "cpu_s": round(self.cpu_s, 3), "restarts": self.broken}

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs, self._procs, self._idle = self._procs, [], []
        for proc in procs:
            proc.kill()


def _exception(error: dict) -> Exception:
    """The server-side exception of a task's error answer."""
    kind = error.get("kind")
    if kind == "cpu":
        return check.Invalid("checking the result used more CPU than allowed")
    if kind == "too_large":
        return render.TooLarge(int(error["size"]), int(error["cap"]))
    if kind == "invalid":
        return check.Invalid(str(error.get("message", "")))
    if kind == "memory":
        return MemoryError("the result checker ran out of memory")
    return RuntimeError(f"result checker: {error.get('type')}: {error.get('message')}")
