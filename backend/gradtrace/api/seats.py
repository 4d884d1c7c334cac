"""Seats: a signed cookie that tells browsers behind one address apart, so per-client run limits serve a whole
hall behind one NAT fairly (runner.Admission) without trusting anything a client merely claims.

A seat is issued with a page (/, /embed, /c/{code}) to a browser without a valid one, at most `seat_count` per
address per `seat_window_s`; it is HttpOnly, SameSite=Lax, and signed with `seat_secret` (or a key shared through
Redis, so every replica accepts every seat). A forged or foreign cookie is ignored: the request counts as its
address alone. Seats are only ever used to split an address's share, never to enlarge it.
"""
import base64
import hashlib
import hmac
import logging
import secrets
from http.cookies import SimpleCookie

from fastapi import Request, Response

from ..config import Settings
from ..runner import SEAT_MARK
from .clients import client_key, scope_key

log = logging.getLogger("gradtrace.seats")
COOKIE = "gt_seat"
MAX_AGE_S = 30 * 86400
_REDIS_KEY = "gradtrace:seat-key"


class Seats:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.key = settings.seat_secret.encode() if settings.seat_secret else secrets.token_bytes(32)
        self.issued = 0

    async def start(self) -> None:
        """Without seat_secret but with Redis: one key for every replica (the first to start makes it)."""
        if self.settings.seat_secret or not self.settings.redis_url:
            return
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            await client.set(_REDIS_KEY, secrets.token_hex(32), nx=True)
            self.key = (await client.get(_REDIS_KEY)) or self.key
        except Exception as exc:  # noqa: BLE001 - seats then hold on this replica only; limits stay per address
            log.warning("seat key not shared through Redis (%s): seats from other replicas count as their address", exc)
        finally:
            await client.aclose()

    def _sign(self, seat: str) -> str:
        mac = hmac.new(self.key, seat.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def verify(self, value: str | None) -> str | None:
        """The seat id of a cookie value, or None when it is missing, malformed or not signed by us."""
        if not value or value.count(".") != 1 or len(value) > 64:
            return None
        seat, mac = value.split(".")
        return seat if seat.isalnum() and hmac.compare_digest(mac, self._sign(seat)) else None

    def seat_of(self, scope: dict) -> str | None:
        for name, value in scope.get("headers", ()):
            if name == b"cookie" and COOKIE.encode() in value:
                try:
                    jar = SimpleCookie(value.decode("latin-1"))
                except Exception:  # noqa: BLE001 - a garbled Cookie header is no seat
                    return None
                morsel = jar.get(COOKIE)
                return self.verify(morsel.value if morsel else None)
        return None

    def client_of(self, scope: dict) -> str:
        """The key runs are counted against: the address, or address + seat (runner.Admission)."""
        address = scope_key(scope, self.settings.trusted_proxies)
        seat = self.seat_of(scope)
        return f"{address}{SEAT_MARK}{seat}" if seat else address

    async def issue(self, request: Request, response: Response, hit) -> None:
        """Give this browser a seat if it has none and its address may have another (`hit`: the class store's)."""
        if self.seat_of(request.scope) is not None:
            return
        try:
            allowed = await hit("seat:" + client_key(request), self.settings.seat_count, self.settings.seat_window_s)
        except Exception:  # noqa: BLE001 - the store is down: serve the page without a seat
            return
        if not allowed:
            return
        seat = secrets.token_hex(8)
        secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
        response.set_cookie(COOKIE, f"{seat}.{self._sign(seat)}", max_age=MAX_AGE_S, httponly=True,
                            samesite="lax", secure=secure, path="/")
        self.issued += 1
