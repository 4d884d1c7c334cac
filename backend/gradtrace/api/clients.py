"""Who a request comes from: the socket's address, or X-Forwarded-For only behind a trusted proxy.

Placeholder by i11 with the signature fixed in INTERFACES §4; i12 owns this module.
"""
import ipaddress

from fastapi import Request


def _trusted(peer: str, proxies: str) -> bool:
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for item in filter(None, (p.strip() for p in proxies.split(","))):
        try:
            if addr in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_key(request: Request) -> str:
    """The client's address: the first untrusted hop of X-Forwarded-For when the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    proxies = getattr(request.app.state.settings, "trusted_proxies", "") or ""
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):  # walk back from the nearest hop; the first one we don't trust is the client
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer
