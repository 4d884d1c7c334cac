"""Shared fixtures: a trusted in-process runner and an API client that uses it."""
import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item (rep_setup, rep_call), so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def settings():
    return Settings(max_code_bytes=2000)


@pytest.fixture
def api(settings):
    """The real app with the tracer run in-process (the sandbox has its own tests)."""
    app = create_app(settings, runner=InProcessRunner())
    with TestClient(app) as client:
        yield client
