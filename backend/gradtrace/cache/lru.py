"""A byte-bounded LRU of serialized traces, for one process."""
import threading
from collections import OrderedDict


class ByteLRU:
    """key → bytes, dropping the least recently used once the total passes `capacity` bytes."""

    def __init__(self, capacity: int):
        self.capacity = max(0, int(capacity))
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.capacity // 4:  # one huge trace must not flush the whole class's working set
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while self._size > self.capacity:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def discard(self, key: str) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._items), "bytes": self._size, "capacity": self.capacity,
                    "hits": self.hits, "misses": self.misses}
