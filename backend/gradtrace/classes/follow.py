"""A follower without a browser (tests, benches, tools): an EventSource on asyncio streams. It reconnects after the
server's `retry:` delay with `Last-Event-ID`, as browsers do, and reads chunked or close-delimited bodies."""
import asyncio
from collections.abc import Callable


class Follower:
    """`await run()` follows `path` on host:port until `stop()` or an `end` event; `on_event(kind, id, data)`."""

    def __init__(self, host: str, port: int, path: str, on_event: Callable[[str, str | None, str], None],
                 headers: dict | None = None, reconnect: bool = True):
        self.host, self.port, self.path = host, port, path
        self.on_event, self.headers, self.reconnect = on_event, headers or {}, reconnect
        self.last_id: str | None = None
        self.retry_s = 1.0
        self.server: str | None = None  # X-Gradtrace-Server of the current connection
        self.connects = 0
        self.statuses: list[int] = []
        self.ended = False
        self._stop = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None

    def stop(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.close()

    async def run(self) -> None:
        while not self._stop.is_set() and not self.ended:
            try:
                await self._once()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                pass  # the server went away mid-stream: reconnect like a browser
            if not self.reconnect or self._stop.is_set() or self.ended:
                return
            try:
                await asyncio.wait_for(self._stop.wait(), self.retry_s)
            except asyncio.TimeoutError:
                pass

    async def _once(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._writer = writer
        try:
            head = {"Host": f"{self.host}:{self.port}", "Accept": "text/event-stream", **self.headers}
            if self.last_id is not None:
                head["Last-Event-ID"] = self.last_id
            writer.write((f"GET {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items())
                          + "\r\n").encode())
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            self.statuses.append(status)
            if status != 200:
                if status == 429 or status >= 500:
                    self.retry_s = max(self.retry_s, float(headers.get("retry-after", 1)))
                return
            self.connects += 1
            self.server = headers.get("x-gradtrace-server")
            chunked = "chunked" in headers.get("transfer-encoding", "")
            await self._parse(self._chunks(reader) if chunked else self._raw(reader))
        finally:
            writer.close()
            self._writer = None

    @staticmethod
    async def _chunks(reader):
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
            yield data

    @staticmethod
    async def _raw(reader):
        while data := await reader.read(65536):
            yield data

    async def _parse(self, chunks) -> None:
        buffer, event, eid, data = b"", None, None, []
        async for chunk in chunks:
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.decode().rstrip("\r")
                if line == "":
                    if data:
                        if eid is not None:
                            self.last_id = eid
                        self.on_event(event or "message", eid, "\n".join(data))
                        if event == "end":
                            self.ended = True
                            return
                    event, eid, data = None, None, []
                    continue
                if line.startswith(":"):
                    continue
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    event = value
                elif field == "id":
                    eid = value
                elif field == "data":
                    data.append(value)
                elif field == "retry" and value.isdigit():
                    self.retry_s = int(value) / 1000
