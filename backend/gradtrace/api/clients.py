"""Who is asking: the key per-client limits count against (run fairness, connection caps, snippet rate).

The socket's peer address, unless that peer is a configured trusted proxy (`trusted_proxies`): then the
right-most address of `X-Forwarded-For` that is not itself a trusted proxy (the left part is client-written).
"""
import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def parse_networks(spec: str) -> tuple[Network, ...]:
    """'10.0.0.1, 172.16.0.0/12' -> networks; a malformed entry is a configuration error."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def key_from(peer: str, forwarded_for: str | None, trusted: str) -> str:
    """The client key from the socket peer and the X-Forwarded-For header value (or None)."""
    networks = parse_networks(trusted)
    if not networks or not forwarded_for or not is_trusted(peer, networks):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled chain: count it against the proxy that sent it
        if not is_trusted(hop, networks):
            return hop
    return peer


def scope_key(scope: dict, trusted: str) -> str:
    """client_key for a raw ASGI scope (the door middleware runs before any Request exists)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    forwarded = None
    if trusted:
        values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
        forwarded = ",".join(values) if values else None
    return key_from(peer, forwarded, trusted)


def client_key(request: HTTPConnection) -> str:
    """The socket's address, or X-Forwarded-For's first untrusted address when the peer is a trusted proxy."""
    settings = getattr(request.app.state, "settings", None)
    trusted = getattr(settings, "trusted_proxies", "") or ""
    return scope_key(request.scope, trusted)
