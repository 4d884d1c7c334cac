"""One source of trace settings (gradtrace/limits.py): the tracer, the sandbox options and the cache key all derive
from it; the key also names the build. One cache entry per program, seed and content options; what depends on load
is never cached (issue 19)."""

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.cache import cache_namespace
from gradtrace.cache.keys import build_identity
from gradtrace.config import Settings
from gradtrace.limits import RunLimits, TraceLimits
from gradtrace.runner import InProcessRunner
from gradtrace.sandbox.options import Options
from gradtrace.tracer import Limits

CODE = "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n(x * x).sum().backward()\n"


def changed(name: str, value):
    """A valid value other than `value` for the setting `name`."""
    return value * 2 if not isinstance(value, bool) else not value


@pytest.mark.parametrize("name", [*TraceLimits.model_fields, *RunLimits.model_fields])
def test_every_content_setting_changes_the_key_and_reaches_the_tracer_and_the_sandbox(name):
    default = getattr(Settings(), name)
    other = Settings(**{name: changed(name, default)})
    assert cache_namespace(other) != cache_namespace(Settings())
    options = Options.from_settings(other)
    if name in TraceLimits.model_fields:
        assert getattr(options.tracer_limits(), name) == getattr(other, name)
    else:
        assert getattr(options, name) == getattr(other, name)


def test_server_knobs_leave_the_key_alone_and_the_defaults_are_defined_once():
    assert cache_namespace(Settings(workers=7, port=1, check_workers=3)) == cache_namespace(Settings())
    assert Limits() == TraceLimits.from_settings(Settings())  # the tracer's defaults are the settings' defaults
    options = Options()
    assert options.tracer_limits() == Limits() and options.timeout_s == Settings().timeout_s


def test_the_key_names_the_build():
    build = build_identity()
    assert build["gradtrace"] and len(build["code"]) == 16 and build["torch"].startswith("2.")


class CountingRunner(InProcessRunner):
    runs = 0

    async def run(self, code, seed, **options):
        CountingRunner.runs += 1
        return await super().run(code, seed, **options)


def test_one_run_serves_every_format_and_a_get_of_each_view():
    CountingRunner.runs = 0
    with TestClient(create_app(Settings(), runner=CountingRunner())) as client:
        full = client.post("/api/v1/traces", json={"code": CODE})
        v2 = client.post("/api/v1/traces", json={"code": CODE, "format": "compact", "compact_version": 2})
        v1 = client.post("/api/v1/traces", json={"code": CODE, "format": "compact", "compact_version": 1})
        assert CountingRunner.runs == 1  # one entry per program and seed; the formats are made from it
        assert full.json()["tensors"][0]["data"]["values"] == [1.0, 2.0]
        assert v2.json()["compact_version"] == 2 and v1.json()["format"] == "compact"
        keys = {r.headers["x-trace-key"] for r in (full, v2, v1)}
        assert len(keys) == 3
        for key in keys:
            client.app.state.traces.memory.discard(key)  # forget the rendered views: a GET renders from the entry
        for r in (full, v2, v1):
            assert client.get(f"/api/v1/traces/{r.headers['x-trace-key']}").json() == r.json()
        assert CountingRunner.runs == 1


def test_a_finite_difference_check_cut_short_by_its_time_budget_is_not_cached():
    """The check's wall-clock budget runs out under load: the same request may complete next time."""
    cut = {"tensor": "x", "h": 0.001, "values": None, "root": None, "error": "stopped after 2 s: the program is too "
           "slow to re-run 4 times"}

    class SlowFd(InProcessRunner):
        runs = 0

        async def run(self, code, seed, **options):
            SlowFd.runs += 1
            trace = await super().run(code, seed)
            return {**trace, "finite_difference": {**cut, "tensor": trace["tensors"][0]["id"]}}

    with TestClient(create_app(Settings(), runner=SlowFd())) as client:
        body = {"code": CODE, "finite_difference": {"tensor": "x"}}
        for _ in range(2):
            r = client.post("/api/v1/traces", json=body)
            assert r.json()["finite_difference"]["error"].startswith("stopped after")
            assert r.headers["cache-control"] == "no-store"
        assert SlowFd.runs == 2
