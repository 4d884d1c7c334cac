"""An SSE reader for tests: parses a live event stream in a thread and hands out events as they arrive."""
import json
import queue
import threading


def parse_sse(lines):
    """Yield (event, id, data) from an iterator of decoded lines (comments skipped, `retry:` reported)."""
    event, eid, data = None, None, []
    for line in lines:
        if line == "":
            if data or event:
                yield event or "message", eid, "\n".join(data)
            event, eid, data = None, None, []
        elif line.startswith(":"):
            yield "comment", None, line[1:].strip()
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "id":
                eid = value
            elif field == "data":
                data.append(value)
            elif field == "retry":
                yield "retry", None, value


class Follower:
    """GET the events of a class with a TestClient in a thread; `next(kind)` waits for the next event of a kind."""

    def __init__(self, client, code: str, headers: dict | None = None):
        self.events: queue.Queue = queue.Queue()
        self.status = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(client, code, headers or {}), daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self, client, code, headers):
        try:
            with client.stream("GET", f"/api/v1/classes/{code}/events", headers=headers) as r:
                self.body = r.read() if r.status_code != 200 else None
                self.status = r.status_code
                self._ready.set()
                if r.status_code != 200:
                    return
                for kind, eid, data in parse_sse(r.iter_lines()):
                    self.events.put((kind, eid, data))
                    if self._stop.is_set() or kind == "end":
                        break
        finally:
            self._ready.set()
            self.events.put(("closed", None, None))

    def next(self, kind: str, timeout: float = 10):
        """The data (parsed JSON) and id of the next event of `kind`; other kinds before it are skipped."""
        while True:
            got, eid, data = self.events.get(timeout=timeout)
            if got == kind:
                return (json.loads(data) if data and kind not in ("comment", "retry") else data), eid
            if got == "closed":
                raise AssertionError(f"stream closed while waiting for {kind}")

    def close(self):
        """Leave at the next event or heartbeat."""
        self._stop.set()
        self._thread.join(10)
