"""This process's side of class sessions: the open event streams, fan-out to them, throttled tallies, heartbeats,
follower counts reported to the store, and ends noticed (deleted elsewhere or idle past class_idle_s)."""
import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator

from ..config import Settings
from .store import ClassStore, MemoryStore

log = logging.getLogger("gradtrace.classes")
END_SEQ = -1  # the seq an `end` frame travels with: the stream closes after it
HEARTBEAT = b": heartbeat\n\n"
QUEUE_FRAMES = 64  # a follower this far behind is cut off; its browser reconnects and gets the current state


def frame(event: str, data: dict, seq: int | None = None) -> bytes:
    """One SSE event; compact JSON is a single line, so `data:` needs no splitting."""
    head = f"id: {seq}\n" if seq is not None and seq > 0 else ""
    # ASCII with \u escapes: a lone surrogate a presenter typed is still valid JSON, and never an encoding error
    body = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return f"{head}event: {event}\ndata: {body}\n\n".encode()


def public_question(q: dict | None) -> dict | None:
    """What followers see of a question: never the right answer before it is revealed."""
    if q is None:
        return None
    out = {"id": q["id"], "step": q["step"], "prompt": q["prompt"], "choices": q["choices"],
           "revealed": bool(q.get("revealed"))}
    if q.get("revealed"):
        out["correct"] = q["correct"]
    return out


def public_view(doc: dict, followers: int) -> dict:
    """GET /api/v1/classes/{code} and the data of `state` events."""
    return {"code": doc["code"], "seq": doc["seq"], "program": doc["program"], "trace_key": doc.get("trace_key"),
            "state": doc["state"], "question": public_question(doc.get("question")), "followers": followers,
            "ended": False}


def tally_view(q: dict, with_correct: bool) -> dict:
    out = {"id": q["id"], "counts": list(q["counts"]), "total": q["total"]}
    if with_correct or q.get("revealed"):
        out["correct"] = q["correct"]
    return out


class Stream:
    """One follower's open event stream on this process."""

    __slots__ = ("code", "queue", "last_seq", "cut")

    def __init__(self, code: str, last_seq: int):
        self.code, self.last_seq, self.cut = code, last_seq, False
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_FRAMES)


class Full(Exception):
    """The session has class_max_followers followers."""


class Hub:
    def __init__(self, settings: Settings, store: ClassStore, server_id: str | None = None):
        self.settings, self.store = settings, store
        self.server_id = server_id or secrets.token_hex(6)
        self._streams: dict[str, set[Stream]] = {}
        self._dirty: set[str] = set()
        self._reported: set[str] = set()
        self._tally_tasks: dict[tuple[str, str], asyncio.Task] = {}
        self._tally_last: dict[tuple[str, str], float] = {}
        self._tasks: list[asyncio.Task] = []
        self._wake = asyncio.Event()
        self.delivered = 0
        self.draining = False

    # --- lifecycle ---
    async def start(self) -> None:
        await self.store.start(self.deliver)
        self._tasks = [asyncio.create_task(self._beat()), asyncio.create_task(self._flush())]

    async def close(self) -> None:
        tasks = [*self._tasks, *self._tally_tasks.values()]
        for task in tasks:
            task.cancel()
        if tasks:  # a shutdown never waits for ever on a task that did not stop
            _, stuck = await asyncio.wait(tasks, timeout=5)
            for task in stuck:
                log.warning("class task did not stop on shutdown: %s", task.get_stack(limit=4))
        for streams in self._streams.values():
            for s in streams:
                self._push(s, None)
        await self.store.close()

    def drain(self) -> None:
        """The server is shutting down: end every open stream now (no `end` event, so each browser reconnects,
        to another replica) instead of holding the shutdown for shutdown_grace_s."""
        self.draining = True
        for streams in list(self._streams.values()):
            for s in list(streams):
                s.cut = True
                self._push(s, None)

    # --- fan-out ---
    def deliver(self, code: str, seq: int, data: bytes) -> None:
        """Called by the store for every event of `code` (from this server or another)."""
        for s in list(self._streams.get(code, ())):
            if seq > 0:
                if seq <= s.last_seq:
                    continue  # a state this follower already has (events from two servers may cross)
                s.last_seq = seq
            self._push(s, data)
            if seq == END_SEQ:
                self._push(s, None)
        self.delivered += 1

    def _push(self, s: Stream, data: bytes | None) -> None:
        try:
            s.queue.put_nowait(data)
        except asyncio.QueueFull:
            s.cut = True  # too slow: its stream ends, the browser reconnects with Last-Event-ID

    async def publish(self, code: str, event: str, data: dict, seq: int = 0) -> None:
        await self.store.publish(code, END_SEQ if event == "end" else seq, frame(event, data, seq))

    async def publish_state(self, doc: dict) -> dict:
        view = public_view(doc, await self.followers(doc["code"]))
        await self.publish(doc["code"], "state", view, doc["seq"])
        return view

    # --- followers ---
    def local(self, code: str) -> int:
        return len(self._streams.get(code, ()))

    def local_total(self) -> int:
        return sum(len(s) for s in self._streams.values())

    def stats(self) -> dict:
        return {"server": self.server_id, "sessions": len(self._streams), "followers": self.local_total(),
                "delivered": self.delivered}

    async def followers(self, code: str) -> int:
        return self.local(code) + await self.store.followers(code, exclude=self.server_id)

    async def open(self, code: str, last_seq: int) -> Stream:
        """Register a follower (Full past class_max_followers over all servers)."""
        if await self.followers(code) >= self.settings.class_max_followers:
            raise Full
        stream = Stream(code, last_seq)
        self._streams.setdefault(code, set()).add(stream)
        self._changed(code)
        return stream

    def drop(self, stream: Stream) -> None:
        streams = self._streams.get(stream.code)
        if streams is not None:
            streams.discard(stream)
            if not streams:
                del self._streams[stream.code]
        self._changed(stream.code)

    def _changed(self, code: str) -> None:
        self._dirty.add(code)
        self._wake.set()

    async def events(self, stream: Stream, first: list[bytes]) -> AsyncIterator[bytes]:
        """The bytes of one event stream: the reconnect delay, `first`, then live frames and heartbeats."""
        try:
            yield f"retry: {self.settings.class_retry_ms}\n\n".encode() + b"".join(first)
            while not stream.cut and not self.draining:
                data = await stream.queue.get()  # heartbeats come from _beat: no timer per stream and event
                if data is None:
                    return
                yield data
        finally:
            self.drop(stream)

    # --- tallies ---
    def schedule_tally(self, code: str, qid: str) -> None:
        """Push the question's counts soon: at most one `tally` per class_tally_interval_s from this server."""
        key = (code, qid)
        if key in self._tally_tasks:
            return  # the pending push will read the store after this answer
        wait = self._tally_last.get(key, 0.0) + self.settings.class_tally_interval_s - time.monotonic()
        self._tally_tasks[key] = asyncio.create_task(self._send_tally(key, max(0.0, wait)))

    async def _send_tally(self, key: tuple[str, str], wait: float) -> None:
        try:
            await asyncio.sleep(wait)
        finally:
            self._tally_tasks.pop(key, None)  # before reading: an answer from now on schedules the next push
        self._tally_last[key] = time.monotonic()
        if len(self._tally_last) > 10_000:
            self._tally_last.clear()
        try:
            q = await self.store.question(*key)
            if q is not None:
                await self.publish(key[0], "tally", tally_view(q, False))
        except Exception:  # noqa: BLE001 - a lost tally push is replaced by the next; never kill the loop
            log.exception("tally push failed")

    # --- background ---
    async def _flush(self) -> None:
        """Report this server's follower counts soon after they change (one writer: no reordered counts)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0.05)  # a burst of joins: one report
            dirty, self._dirty = self._dirty, set()
            try:
                await self.store.report_followers(self.server_id, {c: self.local(c) for c in dirty},
                                                  3 * self.settings.class_heartbeat_s)
            except Exception:  # noqa: BLE001
                log.exception("reporting follower counts failed")

    async def _beat(self) -> None:
        """Each heartbeat: refresh the follower counts and end the streams of sessions that are gone."""
        while True:
            await asyncio.sleep(self.settings.class_heartbeat_s)
            for streams in list(self._streams.values()):
                for s in list(streams):
                    if s.queue.empty():  # only idle streams need one; a full one is being cut anyway
                        s.queue.put_nowait(HEARTBEAT)
            codes = list(self._streams)
            try:
                await self.store.report_followers(self.server_id, {c: self.local(c) for c in codes},
                                                  3 * self.settings.class_heartbeat_s)
                live = await self.store.existing(codes)
            except Exception:  # noqa: BLE001 - the store is down: keep streams open, try again next beat
                log.exception("class heartbeat failed")
                continue
            for code in codes:
                if code not in live:
                    self.deliver(code, END_SEQ, frame("end", {"code": code, "reason": "ended"}))
                else:
                    try:
                        await self._resync(code)
                    except Exception:  # noqa: BLE001 - next beat
                        log.exception("class resync failed")

    async def _resync(self, code: str) -> None:
        """Hand the current state to streams that are behind it (an event lost while pub/sub reconnected)."""
        doc = await self.store.get(code)
        streams = self._streams.get(code, ())
        if doc is not None and any(s.last_seq < doc["seq"] for s in streams):
            self.deliver(code, doc["seq"], frame("state", public_view(doc, await self.followers(code)), doc["seq"]))


def hub_from_settings(settings: Settings) -> Hub:
    """Redis-backed (fan-out across replicas) when redis_url is set, else in memory."""
    if settings.redis_url:
        from .redis_store import RedisStore

        return Hub(settings, RedisStore(settings.redis_url))
    return Hub(settings, MemoryStore())
