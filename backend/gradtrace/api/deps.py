"""FastAPI dependencies as Annotated aliases; tests override them with `app.dependency_overrides`."""
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ..config import Settings
from ..runner import Runner, Saturated


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_runner(request: Request) -> Runner:
    return request.app.state.runner


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RunnerDep = Annotated[Runner, Depends(get_runner)]


def ensure_code_fits(code: str, settings: Settings) -> None:
    """413 for a program over the configured size."""
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > settings.max_code_bytes:
        raise HTTPException(413, f"program is {size} bytes; the limit is {settings.max_code_bytes}")


async def run_program(runner: Runner, code: str, seed: int, finite_difference: dict | None = None) -> dict:
    """The runner's Trace, or 503 with Retry-After when every worker is busy and the queue is full."""
    try:
        if finite_difference:  # only then: a runner that knows no tracer options still serves every plain request
            return await runner.run(code, seed, finite_difference=finite_difference)
        return await runner.run(code, seed)
    except Saturated as exc:
        raise HTTPException(503, "server busy, try again shortly",
                            headers={"Retry-After": str(max(1, round(exc.retry_after)))}) from None
