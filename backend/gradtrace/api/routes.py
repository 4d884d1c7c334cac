"""Trace API v1 endpoints."""
import logging

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from .. import __version__
from ..examples import examples
from ..schema import CompactTraceV2, Example, Health, Trace, TraceRequest
from ..cache import valid_key
from .cacheable import revalidated, stored_response, trace_response
from .deps import RunnerDep, SettingsDep, TracesDep, ensure_code_fits, run_program

log = logging.getLogger("gradtrace.api")
router = APIRouter(prefix="/api/v1", tags=["traces"])

_BUSY = {"description": "Every worker is busy and the queue is full; retry after `Retry-After` seconds."}


@router.post(
    "/traces",
    response_model=Trace | CompactTraceV2,
    responses={413: {"description": "Program larger than the configured limit."}, 429: _BUSY, 503: _BUSY},
    summary="Run a program and return its autograd trace",
)
async def create_trace(body: TraceRequest, settings: SettingsDep, runner: RunnerDep, traces: TracesDep, request: Request):
    """Runs `code` in the sandbox. A failing program is still a 200: `status` is "error" and `error` says why.

    Identical requests share one run and finished traces are cached; `X-Trace-Key` (and `trace_key` in the
    body) names the trace for `GET /api/v1/traces/{key}`.
    """
    ensure_code_fits(body.code, settings)
    fd = body.finite_difference.model_dump() if body.finite_difference else None  # part of the cache key too
    cached = await traces.trace(body.model_dump(mode="json"),
                                lambda: run_program(runner, body.code, body.seed, body.format, fd, body.compact_version))
    return trace_response(cached, request)


_GONE = {"description": "No finished trace with that key here (never made, expired, or made by another server)."}


@router.get("/traces/{key}", response_model=Trace | CompactTraceV2, responses={204: {"description": "A miss, with `probe=1`."}, 304: {"description": "Not modified."},
                       404: _GONE},
            summary="A finished trace by its key (cacheable: the key names the content)")
async def read_trace(key: str, settings: SettingsDep, traces: TracesDep, request: Request,
                     probe: Annotated[bool, Query(description="Answer a miss with 204 instead of 404.")] = False):
    """The trace a POST answered with this `X-Trace-Key`, with ETag and `Cache-Control: immutable`.

    The page probes with `?probe=1` before it POSTs: a miss is then an empty 204 (browsers log every 404).
    """
    if not valid_key(key):
        return JSONResponse({"detail": "not a trace key"}, status_code=404, headers={"Cache-Control": "no-store"})
    unchanged = revalidated(request, key, settings.trace_max_age_s)
    if unchanged is not None:
        return unchanged
    found = await traces.lookup(key)
    if found is None and probe:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    if found is None:
        return JSONResponse({"detail": "no finished trace with that key; POST the program"}, status_code=404,
                            headers={"Cache-Control": "no-store"})
    return stored_response(key, found[0], found[1], request, settings.trace_max_age_s)


@router.get("/examples", response_model=list[Example], summary="The gallery of example programs")
async def list_examples():
    return list(examples())


@router.get("/health", response_model=Health, responses={503: {"model": Health}}, summary="Readiness")
async def health(runner: RunnerDep, traces: TracesDep, request: Request):
    info = runner.health()
    if not info.get("ready", False):
        return JSONResponse({"status": "starting", "version": __version__, "runner": info}, status_code=503)
    hub = getattr(request.app.state, "classes", None)
    return {"status": "ok", "version": __version__, "runner": info, "cache": traces.stats(),
            "classes": hub.stats() if hub is not None else {}}
