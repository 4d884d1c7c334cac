"""FastAPI dependencies as Annotated aliases; tests override them with `app.dependency_overrides`."""
from typing import Annotated

from fastapi import Depends, Request

from ..config import Settings
from ..runner import Runner


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_runner(request: Request) -> Runner:
    return request.app.state.runner


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
