"""Trace API v1 endpoints."""
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from .. import __version__
from ..examples import examples
from ..schema import Example, Health, Trace, TraceRequest
from .deps import RunnerDep, SettingsDep, ensure_code_fits, run_program

log = logging.getLogger("gradtrace.api")
router = APIRouter(prefix="/api/v1", tags=["traces"])

_BUSY = {"description": "Every worker is busy and the queue is full; retry after `Retry-After` seconds."}


@router.post(
    "/traces",
    response_model=Trace,
    responses={413: {"description": "Program larger than the configured limit."}, 429: _BUSY, 503: _BUSY},
    summary="Run a program and return its autograd trace",
)
async def create_trace(body: TraceRequest, settings: SettingsDep, runner: RunnerDep):
    """Runs `code` in the sandbox. A failing program is still a 200: `status` is "error" and `error` says why."""
    ensure_code_fits(body.code, settings)
    fd = body.finite_difference.model_dump() if body.finite_difference else None
    trace = await run_program(runner, body.code, body.seed, fd)
    # The runner hands back a validated, JSON-ready dict: no second validation on the hot path.
    return JSONResponse(trace)


@router.get("/examples", response_model=list[Example], summary="The gallery of example programs")
async def list_examples():
    return list(examples())


@router.get("/health", response_model=Health, responses={503: {"model": Health}}, summary="Readiness")
async def health(runner: RunnerDep):
    info = runner.health()
    if not info.get("ready", False):
        return JSONResponse({"status": "starting", "version": __version__, "runner": info}, status_code=503)
    return {"status": "ok", "version": __version__, "runner": info}
