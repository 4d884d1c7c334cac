"""Live HTTP servers for the door attacks: the app behind gradtrace's door (DoorProtocol + DoorMiddleware),
and the door as it was before issue 12 (uvicorn's defaults, a Content-Length-only size check), both with a
fake instant runner and a counter of the request-body bytes the app was handed."""
import asyncio
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gradtrace.api.app import create_app
from gradtrace.api.door import uvicorn_config
from gradtrace.config import Settings
from gradtrace.schema import TraceRequest


class InstantRunner:
    async def run(self, code: str, seed: int = 0) -> dict:
        return {"version": 1, "status": "ok", "error": None, "stdout": "", "tensors": [], "nodes": [],
                "forward": [], "backward": [], "variables": {}}

    def health(self) -> dict:
        return {"runner": "instant", "ready": True}

    def close(self) -> None:
        pass


class BodyCounter:
    """Outermost ASGI wrapper: how many body bytes the server handed to the application."""

    def __init__(self, app):
        self.app, self.seen = app, 0

    async def __call__(self, scope, receive, send):
        async def counting():
            message = await receive()
            self.seen += len(message.get("body", b""))
            return message
        return await self.app(scope, counting, send)


def old_app(settings: Settings) -> FastAPI:
    """The app's door before issue 12: only Content-Length was checked; the route parsed the whole body."""
    app = FastAPI()

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > 6 * settings.max_code_bytes + 4096:
            return JSONResponse({"detail": "request body too large"}, status_code=413)
        return await call_next(request)

    @app.post("/api/v1/traces")
    async def traces(body: TraceRequest):
        if len(body.code.encode()) > settings.max_code_bytes:
            return JSONResponse({"detail": "too large"}, status_code=413)
        return await InstantRunner().run(body.code, body.seed)

    @app.get("/api/v1/health")
    async def health():
        return {"status": "ok"}

    return app


class LiveServer:
    def __init__(self, config: uvicorn.Config, counter: BodyCounter):
        self.counter = counter
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    def connect(self, source: str = "127.0.0.1", timeout: float = 5.0) -> socket.socket:
        sock = socket.socket()
        sock.settimeout(timeout)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", self.port))
        return sock

    def open_connections(self) -> int:
        return len(self.server.server_state.connections)

    def close(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


def new_door(**overrides) -> LiveServer:
    settings = Settings(**overrides)
    counter = BodyCounter(create_app(settings, runner=InstantRunner()))
    return LiveServer(uvicorn_config(counter, settings, "127.0.0.1", 0, "critical"), counter)


def old_door(**overrides) -> LiveServer:
    settings = Settings(**overrides)
    counter = BodyCounter(old_app(settings))
    return LiveServer(uvicorn.Config(counter, host="127.0.0.1", port=0, log_level="critical"), counter)


def http_get(sock: socket.socket, path: str = "/api/v1/health", extra: bytes = b"") -> bytes:
    sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
    return read_response(sock)


def read_response(sock: socket.socket) -> bytes:
    """The bytes the server sent until it paused for 0.5 s or closed (b'' when it said nothing)."""
    data = b""
    sock.settimeout(2.0)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                sock.settimeout(0.5)
    except TimeoutError:
        pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    return data


def status_of(response: bytes) -> int | None:
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closed the connection within `within` seconds (without us sending more)."""
    sock.settimeout(within)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except TimeoutError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def send_quietly(sock: socket.socket, data: bytes) -> int:
    """Send as much as the server takes; the number of bytes that went out before it stopped reading."""
    sent = 0
    sock.settimeout(3.0)
    view = memoryview(data)
    try:
        while sent < len(data):
            sent += sock.send(view[sent:sent + 65536])
    except (OSError, TimeoutError):
        pass
    return sent


__all__ = ["asyncio"]
