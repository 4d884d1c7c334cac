"""FastAPI dependencies as Annotated aliases; tests override them with `app.dependency_overrides`."""
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from ..cache import TraceService
from ..config import Settings
from ..runner import ClientBusy, Runner, Saturated
from ..tracer.compact import to_format


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_runner(request: Request) -> Runner:
    return request.app.state.runner


def get_traces(request: Request) -> TraceService:
    """The runner behind the trace cache (made on first use when the app runs without its lifespan)."""
    service = getattr(request.app.state, "traces", None)
    if service is None:
        service = request.app.state.traces = TraceService.from_settings(request.app.state.settings)
    return service


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
TracesDep = Annotated[TraceService, Depends(get_traces)]


def ensure_code_fits(code: str, settings: Settings) -> None:
    """413 for a program over the configured size."""
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > settings.max_code_bytes:
        raise HTTPException(413, f"program is {size} bytes; the limit is {settings.max_code_bytes}")


async def run_program(runner: Runner, code: str, seed: int, fmt: str = "full",
                      finite_difference: dict | None = None, compact_version: int = 1) -> dict:
    """The runner's Trace in format `fmt` (converted in place); 429 when this client has its share of runs queued
    or running (the runner knows the client from runner.current_client), 503 when the whole queue is full; both
    with Retry-After."""
    try:
        if finite_difference:  # only then: a runner that knows no tracer options still serves every plain request
            trace = await runner.run(code, seed, finite_difference=finite_difference)
        else:
            trace = await runner.run(code, seed)
        # Off the event loop: encoding a big trace takes a few hundred ms, and other requests must not wait for it.
        return await run_in_threadpool(to_format, trace, fmt, compact_version)
    except ClientBusy as exc:
        raise HTTPException(429, "you already have several programs running or waiting; try again shortly",
                            headers={"Retry-After": str(max(1, round(exc.retry_after)))}) from None
    except Saturated as exc:
        raise HTTPException(503, "server busy, try again shortly",
                            headers={"Retry-After": str(max(1, round(exc.retry_after)))}) from None
