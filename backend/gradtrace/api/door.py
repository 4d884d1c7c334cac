"""The HTTP door when uvicorn serves directly (`gradtrace serve`, `make run`, the image): what a request may
cost before the app sees it. Every number is a setting in config.py; docs/security.md lists them.

- DoorMiddleware (ASGI, outermost): header count, body cap counted on the bytes actually received (any
  transfer encoding; reading stops at the limit), body deadline, and the client key for fair queueing.
- DoorProtocol (uvicorn's h11 protocol): header size (h11's buffer cap), a deadline for each request head,
  and connection caps per client and overall, enforced on accept before anything is read.
"""
import asyncio
import json
import logging
import math
import resource
from collections import Counter

import h11
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..config import Settings
from ..runner import set_current_client
from .clients import is_trusted, parse_networks, scope_key

log = logging.getLogger("gradtrace.door")


async def _refuse(send, status: int, detail: str, close: bool = True) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))  # the rest of an oversized body is never read
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class DoorMiddleware:
    def __init__(self, app, settings: Settings, seats=None):
        self.app, self.settings, self.seats = app, settings, seats

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        settings = self.settings
        if len(scope["headers"]) > settings.max_header_count:
            return await _refuse(send, 431, f"more than {settings.max_header_count} request headers")
        limit = settings.body_limit()
        length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _refuse(send, 413, f"request body too large (limit {limit} bytes; "
                                 f"{settings.max_code_bytes} bytes of code)")
        client = self.seats.client_of(scope) if self.seats is not None else scope_key(scope, settings.trusted_proxies)
        token = set_current_client(client)  # address, or address + seat: runner.Admission tells a hall's students apart
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.body_timeout_s
        received, refusal, answered, passed, ended = 0, None, False, False, False

        async def capped_receive():
            # Past the cap or the deadline the app is told the body ended (nothing more is read) and its
            # answer is replaced by the refusal: no exception has to travel through the framework.
            nonlocal received, refusal, ended
            if ended:  # the body is over: what is left is waiting for a disconnect (event streams do, for hours)
                return await receive()
            if refusal is not None:
                ended = True
                return {"type": "http.request", "body": b"", "more_body": False}
            try:
                message = await asyncio.wait_for(receive(), max(0.001, deadline - loop.time()))
            except asyncio.TimeoutError:
                refusal = (408, f"request body not received within {settings.body_timeout_s:g} s")
                ended = True
                return {"type": "http.request", "body": b"", "more_body": False}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refusal = (413, f"request body too large (limit {limit} bytes)")
                    ended = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                ended = not message.get("more_body", False)
            return message

        async def guarded_send(message):
            nonlocal answered, passed
            if refusal is None or passed:  # a response already under way is left alone
                passed = passed or message["type"] == "http.response.start"
                return await send(message)
            if not answered:
                answered = True
                await _refuse(send, *refusal)

        try:
            await self.app(scope, capped_receive, guarded_send)
            if refusal is not None and not answered and not passed:
                await _refuse(send, *refusal)
        finally:
            try:
                token.var.reset(token)
            except ValueError:
                pass  # reset from another context (the app ran us in a copied one): nothing to undo


def _finite(value):
    """Validation errors echo the input; a non-finite number or a lone surrogate there would make the 422 fail."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):  # a lone surrogate ("\ud800" in the JSON) cannot be encoded back: echo a "?"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


async def validation_error(request: Request, exc: RequestValidationError):
    """422 for every malformed request, including `"seed": 1e400`, NaN or -Infinity (never a 500)."""
    return await request_validation_exception_handler(request, RequestValidationError(_finite(list(exc.errors()))))


def install(app: FastAPI, settings: Settings, seats=None) -> None:
    """Add the door's middleware (outermost) and the 422 handler to the app."""
    app.add_middleware(DoorMiddleware, settings=settings, seats=seats)
    app.add_exception_handler(RequestValidationError, validation_error)


class DoorProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline per request head and caps on connections at accept time."""

    settings: Settings  # set by protocol_for()
    open_by_client: Counter
    open_total: list

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._key = self.client[0] if self.client else "unknown"
        self._counted = False
        self._head_timer = None
        settings = self.settings
        exempt = is_trusted(self._key, parse_networks(settings.trusted_proxies))
        if self.open_total[0] >= settings.max_connections or (
                not exempt and self.open_by_client[self._key] >= settings.max_connections_per_client):
            transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                            b"Retry-After: 5\r\nContent-Length: 30\r\n\r\ntoo many connections, retry...\n")
            transport.close()
            return
        self._counted = True
        self.open_total[0] += 1
        self.open_by_client[self._key] += 1
        self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        if self._counted:
            self._counted = False
            self.open_total[0] -= 1
            self.open_by_client[self._key] -= 1
            if self.open_by_client[self._key] <= 0:
                del self.open_by_client[self._key]
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.settings.header_timeout_s, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # no complete request head in time (a slow-header client)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()  # the next request head has the same deadline


def protocol_for(settings: Settings) -> type:
    """A DoorProtocol class bound to these settings, with its own connection counters."""
    parse_networks(settings.trusted_proxies)  # a malformed trusted_proxies fails at startup, not per connection
    return type("DoorProtocol", (DoorProtocol,), {"settings": settings, "open_by_client": Counter(),
                                                  "open_total": [0]})


def raise_open_file_limit(settings: Settings) -> int:
    """Lift the soft open-file limit so max_connections (plus the sandbox's own) fit; returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = settings.max_connections + 1024
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    if soft != resource.RLIM_INFINITY and soft < want:
        log.warning("open-file limit %d is below max_connections + 1024 (%d): raise it (ulimit -n)", soft, want)
    return soft


def uvicorn_config(app, settings: Settings, host: str, port: int, log_level: str = "info"):
    """The uvicorn Config of the door: h11 with the header cap, our protocol, keep-alive timeout."""
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, http=protocol_for(settings),
                          h11_max_incomplete_event_size=settings.max_header_bytes,
                          timeout_keep_alive=settings.keepalive_timeout_s, backlog=2048,
                          timeout_graceful_shutdown=settings.shutdown_grace_s)


def serve(app, settings: Settings, host: str, port: int, log_level: str = "info") -> None:
    """Serve the app behind the door (blocking)."""
    raise_open_file_limit(settings)
    DoorServer(uvicorn_config(app, settings, host, port, log_level), app).run()


class DoorServer(uvicorn.Server):
    """uvicorn's Server that ends the app's endless responses (class event streams) when shutdown begins:
    uvicorn would otherwise wait shutdown_grace_s for them, then cancel them with a logged traceback."""

    def __init__(self, config, app):
        super().__init__(config)
        self.app = app

    async def shutdown(self, sockets=None) -> None:
        hub = getattr(getattr(self.app, "state", None), "classes", None)
        if hub is not None:
            hub.drain()
        await super().shutdown(sockets)
