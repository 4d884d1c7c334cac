"""Shared fixtures: a trusted in-process runner and an API client that uses it."""
import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner


@pytest.fixture
def settings():
    return Settings(max_code_bytes=2000)


@pytest.fixture
def api(settings):
    """The real app with the tracer run in-process (the sandbox has its own tests)."""
    app = create_app(settings, runner=InProcessRunner())
    with TestClient(app) as client:
        yield client
