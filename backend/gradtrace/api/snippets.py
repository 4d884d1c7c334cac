"""Short links: store a program, get an id; `/s/{id}` opens it, `/api/v1/snippets/{id}/trace` is its cacheable trace."""
import html
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from ..schema import CompactTraceV2, Trace, TraceRequest
from ..snippets import RateLimited, SnippetStore
from .cacheable import trace_response
from .clients import client_key
from . import headers
from .deps import RunnerDep, SettingsDep, TracesDep, cached_trace, ensure_code_fits, run_program


class SnippetIn(BaseModel):
    model_config = ConfigDict(strict=True)

    code: str = Field(description="The program to store.")
    seed: int = Field(0, ge=-(2**63), le=2**64 - 1)


class Snippet(BaseModel):
    id: str
    code: str
    seed: int
    url: str = Field(description="Path of the page that opens this program.")


def get_store(request: Request) -> SnippetStore:
    store = getattr(request.app.state, "snippets", None)
    if store is None:
        store = request.app.state.snippets = SnippetStore.from_settings(request.app.state.settings)
    return store


StoreDep = Annotated[SnippetStore, Depends(get_store)]
router = APIRouter(tags=["snippets"])


async def _find(store: SnippetStore, sid: str) -> dict:
    found = await run_in_threadpool(store.get, sid)
    if found is None:
        raise HTTPException(404, "no snippet with that id")
    return found


@router.post("/api/v1/snippets", response_model=Snippet, status_code=201, summary="Store a program for a short link",
             responses={413: {"description": "Program larger than the configured limit."},
                        429: {"description": "This client stored too many snippets lately; see `Retry-After`."}})
async def create_snippet(body: SnippetIn, store: StoreDep, settings: SettingsDep, request: Request):
    ensure_code_fits(body.code, settings)
    try:
        body.code.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in the JSON): it could be stored but never sent back
        raise HTTPException(422, "code is not valid Unicode text (a lone surrogate)") from None
    size = len(body.code.encode("utf-8", "surrogatepass"))
    if size > settings.snippet_max_bytes:
        raise HTTPException(413, f"program is {size} bytes; snippets hold at most {settings.snippet_max_bytes}")
    try:
        sid = await run_in_threadpool(store.put, body.code, body.seed, client_key(request))
    except RateLimited as exc:
        raise HTTPException(429, "too many short links from this address; try again later",
                            headers={"Retry-After": str(max(1, round(exc.retry_after)))}) from None
    return {"id": sid, "code": body.code, "seed": body.seed, "url": f"/s/{sid}"}


@router.get("/api/v1/snippets/{sid}", response_model=Snippet, responses={404: {"description": "No such snippet."}})
async def read_snippet(sid: str, store: StoreDep):
    return {**await _find(store, sid), "url": f"/s/{sid}"}


@router.get("/api/v1/snippets/{sid}/trace", response_model=Trace | CompactTraceV2, summary="The trace of a stored program (cacheable)",
            responses={304: {"description": "Not modified."}, 404: {"description": "No such snippet."},
                       503: {"description": "Every worker is busy; retry after `Retry-After` seconds."}})
async def snippet_trace(sid: str, store: StoreDep, settings: SettingsDep, runner: RunnerDep, traces: TracesDep,
                        request: Request,
                        format: Annotated[Literal["full", "compact"] | None, Query()] = None,
                        compact_version: Annotated[int | None, Query(ge=1, le=2)] = None):  # a query is text: not Literal
    """The stored program's trace, run once for everyone (single-flight + cache), with ETag and `immutable`."""
    found = await _find(store, sid)
    # Through the POST's own model, so both ask the cache with the same key (options at their defaults).
    options = {k: v for k, v in (("format", format), ("compact_version", compact_version)) if v is not None}
    wanted = TraceRequest(code=found["code"], seed=found["seed"], **options)
    cached = await cached_trace(traces, wanted.model_dump(mode="json"), lambda: run_program(runner, wanted.code, wanted.seed))
    return trace_response(cached, request, settings.trace_max_age_s)


_NOT_FOUND = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Snippet not found · gradtrace</title>
<style nonce="{nonce}">body{{font:18px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}}</style></head>
<body><h1>Snippet not found</h1><p>No stored program has the id <code>{sid}</code>. The link may be mistyped,
or it was made on another gradtrace server.</p><p><a href="/">Open gradtrace</a></p></body></html>"""


@router.get("/s/{sid}", include_in_schema=False)
async def open_snippet(sid: str, store: StoreDep):
    if await run_in_threadpool(store.get, sid) is None:
        value = headers.nonce()
        return headers.secure(HTMLResponse(_NOT_FOUND.format(sid=html.escape(sid[:64]), nonce=value), status_code=404),
                              headers.page_csp(value))
    return RedirectResponse(f"/?s={sid}", status_code=303)
