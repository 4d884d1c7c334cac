"""A Server-Sent Events response that ends when the client goes away, whatever ASGI spec version the server
speaks (Starlette stops listening for the disconnect at 2.4; a follower that leaves must not be counted)."""
from collections.abc import AsyncIterator

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store"),
           (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
           (b"x-content-type-options", b"nosniff")]


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(self, events: AsyncIterator[bytes], server: str = ""):
        self.events = events
        self.status_code = 200
        self.background = None
        # which replica serves the stream: for tests and operators (a random id, nothing about the host)
        self.raw_headers = [*HEADERS, (b"x-gradtrace-server", server.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as tg:
            async def pump():
                await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
                try:
                    async for chunk in self.events:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except OSError:
                    pass  # the client hung up mid-write
                finally:
                    tg.cancel_scope.cancel()

            async def watch():
                while (await receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(pump)
            tg.start_soon(watch)
        await self.events.aclose()  # runs the stream's finally (the follower is no longer counted)
