"""Short links: programs stored in SQLite under a content-derived id (the same program gets the same link)."""
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

_ALPHABET = "23456789abcdefghijkmnopqrstuvwxyz"  # no 0/1/l: ids get read aloud in class
ID_LENGTH = 10


def snippet_id(code: str, seed: int) -> str:
    digest = int.from_bytes(hashlib.sha256(f"{seed}\0{code}".encode("utf-8", "surrogatepass")).digest()[:12], "big")
    out = []
    for _ in range(ID_LENGTH):
        digest, r = divmod(digest, len(_ALPHABET))
        out.append(_ALPHABET[r])
    return "".join(out)


def valid_id(value: str) -> bool:
    return len(value) == ID_LENGTH and all(c in _ALPHABET for c in value)


class SnippetStore:
    """A tiny table of (id, code, seed); safe to share between threads and between replicas on one volume."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=5)
        with self._lock, self._db:
            if str(self.path) != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS snippets (id TEXT PRIMARY KEY, code TEXT NOT NULL, "
                             "seed TEXT NOT NULL, created REAL NOT NULL)")

    def put(self, code: str, seed: int) -> str:
        sid = snippet_id(code, seed)
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO snippets VALUES (?, ?, ?, ?)",
                             (sid, code.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), str(seed), time.time()))
        return sid

    def get(self, sid: str) -> dict | None:
        if not valid_id(sid):
            return None
        with self._lock:
            row = self._db.execute("SELECT code, seed FROM snippets WHERE id = ?", (sid,)).fetchone()
        return {"id": sid, "code": row[0], "seed": int(row[1])} if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
