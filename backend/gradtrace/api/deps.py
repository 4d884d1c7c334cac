"""FastAPI dependencies as Annotated aliases; tests override them with `app.dependency_overrides`."""
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ..cache import TraceService
from ..config import Settings
from ..runner import ClientBusy, Runner, Saturated
from ..wire.render import TooLarge


# async: FastAPI runs a plain-def dependency on a worker thread (a thread hop and a GIL hand-over each, per request)
async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_runner(request: Request) -> Runner:
    return request.app.state.runner


async def get_traces(request: Request) -> TraceService:
    """The trace cache in front of the runner (made by the app's lifespan)."""
    return request.app.state.traces


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
TracesDep = Annotated[TraceService, Depends(get_traces)]


def ensure_code_fits(code: str, settings: Settings) -> None:
    """413 for a program over the configured size."""
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > settings.max_code_bytes:
        raise HTTPException(413, f"program is {size} bytes; the limit is {settings.max_code_bytes}")


async def run_program(runner: Runner, code: str, seed: int, finite_difference: dict | None = None) -> dict | bytes:
    """The runner's result: a run's unchecked bytes (a sandbox runner) or a trace dict, for TraceService to check
    and convert off the event loop; 429 when this client has its share of runs queued or running (the runner
    knows the client from runner.current_client), 503 when the whole queue is full; both with Retry-After."""
    options = {"finite_difference": finite_difference} if finite_difference else {}  # a runner may know no options
    if hasattr(runner, "run_payload"):
        options["raw"] = True
    try:
        return await runner.run(code, seed, **options)
    except ClientBusy as exc:
        raise HTTPException(429, "you already have several programs running or waiting; try again shortly",
                            headers={"Retry-After": str(max(1, round(exc.retry_after)))}) from None
    except Saturated as exc:
        raise HTTPException(503, "server busy, try again shortly",
                            headers={"Retry-After": str(max(1, round(exc.retry_after)))}) from None


async def cached_trace(traces: TraceService, request: dict, produce):
    """traces.trace(request, produce), with the asked form's size cap as a 413 that names the compact format."""
    try:
        return await traces.trace(request, produce)
    except TooLarge as exc:
        raise HTTPException(413, too_large_message(exc)) from None


def too_large_message(exc: TooLarge) -> str:
    return (f"this trace in the format asked for would be {exc.size} bytes or more, over the server's limit of "
            f'{exc.cap} (max_answer_bytes); ask for it with "format": "compact" and "compact_version": 2, which '
            "shares repeated values instead of writing them out each time")
