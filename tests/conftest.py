"""Shared fixtures: a trusted in-process runner and an API client that uses it, a session sandbox pool, and
program traces computed once per session."""
import json
import os
import sys

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner

# Test pools start without tracing the gallery in each warm parent (it only saves children torch's first-use work);
# the pools that check production's warm parent ask for it (sandbox_warm_gallery=True). Servers started as
# subprocesses inherit it.
os.environ.setdefault("GRADTRACE_SANDBOX_WARM_GALLERY", "0")


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


def default_pool_settings() -> Settings:
    """The server's own limits (default settings), one worker: programs run as a user's would."""
    return Settings(workers=1, queue_size=2, sandbox_uid=int(os.environ.get("GRADTRACE_SANDBOX_UID", 65534)))


@pytest.fixture(scope="session")
def default_pool():
    """One sandbox pool with default_pool_settings() for every module that needs no special settings (each warm
    parent costs seconds to start); a test that changes a pool's state or settings starts its own."""
    from gradtrace.sandbox import SandboxRunner

    runner = SandboxRunner(default_pool_settings())
    runner.start()
    yield runner
    runner.close()


class TracedOnce:
    """trace(code, seed=0) with the default limits, each program traced once per session and kept as the JSON the
    API writes; every call returns a fresh parse of it (the wire form), so no caller sees another's changes."""

    def __init__(self):
        self._text: dict[str, str] = {}

    def __call__(self, code: str) -> dict:
        if code not in self._text:
            from gradtrace.tracer import trace

            self._text[code] = json.dumps(trace(code, seed=0), ensure_ascii=False, allow_nan=False,
                                          separators=(",", ":"))
        return json.loads(self._text[code])


@pytest.fixture(scope="session")
def traced_once():
    return TracedOnce()


@pytest.fixture(autouse=True)
def _torch_globals_as_they_were():
    """Programs traced or run in this process may change torch's process-wide state (a tutorial calls
    `torch.set_default_device(device)`, which leaves a TorchFunctionMode on for every later test): put it back, so a
    test's result never depends on which tests ran before it in the same process."""
    torch = sys.modules.get("torch")
    before = (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads()) if torch else None
    yield
    torch = sys.modules.get("torch")
    if torch is None:
        return
    if getattr(getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None), "device_context", None) is not None:
        torch.set_default_device(None)
    if before is not None:
        torch.set_default_dtype(before[0])
        torch.set_grad_enabled(before[1])
        torch.set_num_threads(before[2])
