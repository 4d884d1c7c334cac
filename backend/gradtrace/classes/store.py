"""Where sessions, questions and tallies live, and how events reach every server: the interface and the in-memory
store of a single process (the embedded default: `make run` needs no service)."""
import time
from collections.abc import Callable
from typing import Protocol

# deliver(code, seq, frame): hand one encoded SSE frame to this process's streams of `code` (seq 0: no order).
Deliver = Callable[[str, int, bytes], None]


class ClassStore(Protocol):
    """Every method is async and never raises for a missing session: it answers None/False instead."""

    async def create(self, doc: dict, ttl_s: int, max_sessions: int) -> str: ...  # "ok" | "taken" | "full"

    async def get(self, code: str) -> dict | None: ...

    async def update(self, code: str, changes: dict, ttl_s: int) -> dict | None: ...  # seq + 1, idle clock reset

    async def delete(self, code: str) -> bool: ...

    async def existing(self, codes: list[str]) -> set[str]: ...

    async def add_question(self, code: str, question: dict, ttl_s: int) -> None: ...

    async def question(self, code: str, qid: str) -> dict | None: ...  # with counts, total, revealed

    async def answer(self, code: str, qid: str, follower: str, choice: int, cap: int, ttl_s: int) -> str: ...

    async def reveal(self, code: str, qid: str) -> dict | None: ...

    async def publish(self, code: str, seq: int, frame: bytes) -> None: ...

    async def report_followers(self, server: str, counts: dict[str, int], ttl_s: float) -> None: ...

    async def followers(self, code: str, exclude: str | None = None) -> int: ...

    async def hit(self, bucket: str, limit: int, window_s: int, cost: int = 1) -> bool: ...
    # adds `cost` to the bucket's count in its window; True when the count before was under `limit` (cost 0: a peek)

    async def start(self, deliver: Deliver) -> None: ...

    async def close(self) -> None: ...


def new_question(question: dict) -> dict:
    return {**question, "revealed": False, "counts": [0] * len(question["choices"]), "total": 0}


class MemoryStore:
    """One process's sessions in dicts; expiry is checked on read (the hub's sweep notices ended sessions)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._sessions: dict[str, dict] = {}
        self._expires: dict[str, float] = {}
        self._questions: dict[tuple[str, str], dict] = {}
        self._answered: dict[tuple[str, str], set[str]] = {}
        self._followers: dict[str, dict[str, tuple[int, float]]] = {}
        self._hits: dict[str, tuple[float, int, int]] = {}
        self._deliver: Deliver | None = None

    def _live(self, code: str) -> dict | None:
        doc = self._sessions.get(code)
        if doc is not None and self._expires[code] <= self.clock():
            self._drop(code)
            return None
        return doc

    def _drop(self, code: str) -> None:
        self._sessions.pop(code, None)
        self._expires.pop(code, None)
        self._followers.pop(code, None)
        for key in [k for k in self._questions if k[0] == code]:
            self._questions.pop(key, None)
            self._answered.pop(key, None)

    async def create(self, doc: dict, ttl_s: int, max_sessions: int) -> str:
        if self._live(doc["code"]) is not None:
            return "taken"
        if len(self._sessions) >= max_sessions:
            for code in list(self._sessions):  # expired ones do not count
                self._live(code)
            if len(self._sessions) >= max_sessions:
                return "full"
        self._sessions[doc["code"]] = dict(doc)
        self._expires[doc["code"]] = self.clock() + ttl_s
        return "ok"

    async def get(self, code: str) -> dict | None:
        doc = self._live(code)
        return dict(doc) if doc is not None else None

    async def update(self, code: str, changes: dict, ttl_s: int) -> dict | None:
        doc = self._live(code)
        if doc is None:
            return None
        doc.update(changes)
        doc["seq"] += 1
        self._expires[code] = self.clock() + ttl_s
        return dict(doc)

    async def delete(self, code: str) -> bool:
        found = self._live(code) is not None
        self._drop(code)
        return found

    async def existing(self, codes: list[str]) -> set[str]:
        return {c for c in codes if self._live(c) is not None}

    async def add_question(self, code: str, question: dict, ttl_s: int) -> None:
        self._questions[(code, question["id"])] = new_question(question)
        self._answered[(code, question["id"])] = set()

    async def question(self, code: str, qid: str) -> dict | None:
        if self._live(code) is None:
            return None
        found = self._questions.get((code, qid))
        return {**found, "counts": list(found["counts"])} if found else None

    async def answer(self, code: str, qid: str, follower: str, choice: int, cap: int, ttl_s: int) -> str:
        found = self._questions.get((code, qid)) if self._live(code) is not None else None
        if found is None:
            return "missing"
        who = self._answered[(code, qid)]
        if follower in who:
            return "duplicate"
        if found["total"] >= cap:
            return "full"
        who.add(follower)
        found["counts"][choice] += 1
        found["total"] += 1
        return "ok"

    async def reveal(self, code: str, qid: str) -> dict | None:
        found = self._questions.get((code, qid)) if self._live(code) is not None else None
        if found is None:
            return None
        found["revealed"] = True
        return {**found, "counts": list(found["counts"])}

    async def publish(self, code: str, seq: int, frame: bytes) -> None:
        if self._deliver is not None:
            self._deliver(code, seq, frame)

    async def report_followers(self, server: str, counts: dict[str, int], ttl_s: float) -> None:
        until = self.clock() + ttl_s
        for code, n in counts.items():
            self._followers.setdefault(code, {})[server] = (n, until)

    async def followers(self, code: str, exclude: str | None = None) -> int:
        now = self.clock()
        return sum(n for server, (n, until) in self._followers.get(code, {}).items()
                   if server != exclude and until > now)

    async def hit(self, bucket: str, limit: int, window_s: int, cost: int = 1) -> bool:
        now = self.clock()
        start, count, _ = self._hits.get(bucket, (now, 0, window_s))
        if now - start >= window_s:
            start, count = now, 0
        if len(self._hits) > 100_000:  # many addresses: forget finished windows
            self._hits = {k: v for k, v in self._hits.items() if now - v[0] < v[2]}
        if cost:
            self._hits[bucket] = (start, count + cost, window_s)
        return count < limit

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def close(self) -> None:
        self._deliver = None
