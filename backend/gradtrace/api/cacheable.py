"""Trace responses that name their content: ETag, immutable caching and 304 for a repeat GET."""
from fastapi import Request
from fastapi.responses import Response

from ..cache import CachedTrace

KEY_HEADER = "X-Trace-Key"


def etag(key: str) -> str:
    return f'"{key}"'


def not_modified(request: Request, key: str) -> bool:
    """Whether the client's If-None-Match already names this trace."""
    header = request.headers.get("if-none-match", "")
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag(key) in tags or "*" in tags


def _headers(key: str, source: str | None = None) -> dict:
    out = {"ETag": etag(key), KEY_HEADER: key, "Content-Location": f"/api/v1/traces/{key}"}
    if source:
        out["X-Gradtrace-Cache"] = source
    return out


def trace_response(cached: CachedTrace, request: Request, max_age: int | None = None) -> Response:
    """200 with the trace bytes (or 304); `max_age` set: a cacheable GET, else a POST answer."""
    headers = _headers(cached.key, cached.source)
    if max_age is not None:
        headers["Cache-Control"] = f"public, max-age={max_age}, immutable" if cached.cacheable else "no-store"
        if cached.cacheable and not_modified(request, cached.key):
            return Response(status_code=304, headers=headers)
    else:
        headers["Cache-Control"] = "no-store"
    return Response(cached.body, media_type="application/json", headers=headers)


def stored_response(key: str, body: bytes, source: str, request: Request, max_age: int) -> Response:
    """A GET of a finished trace by key."""
    return trace_response(CachedTrace(key, body, True, source), request, max_age)


def revalidated(request: Request, key: str, max_age: int) -> Response | None:
    """304 without any lookup when the client already holds `key` (its bytes never change)."""
    if not not_modified(request, key):
        return None
    headers = _headers(key)
    headers["Cache-Control"] = f"public, max-age={max_age}, immutable"
    return Response(status_code=304, headers=headers)
