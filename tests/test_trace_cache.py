"""Trace cache and single-flight: one run for identical requests, cacheable GETs, what is (not) cached."""
import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.cache import TraceService, cache_namespace, trace_key
from gradtrace.cache.lru import ByteLRU
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner
from gradtrace.sandbox import SandboxRunner

from async_helpers import run_async

CODE = "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n(x * x).sum().backward()\n"


class CountingRunner(InProcessRunner):
    """The real in-process tracer, counting runs and holding each one until `gate` opens."""

    def __init__(self):
        super().__init__()
        self.runs = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def run(self, code, seed, **options):
        self.runs += 1
        await self.gate.wait()
        return await super().run(code, seed)


def ask(service, runner, request):
    """The service's trace of `request`, produced (when it must be) by the runner, as the API does."""
    return service.trace(request, lambda: runner.run(request["code"], request["seed"]))




@pytest.fixture
def counted():
    runner = CountingRunner()
    with TestClient(create_app(Settings(), runner=runner)) as client:
        yield client, runner


def test_identical_requests_in_flight_share_one_run():
    async def main():
        runner = CountingRunner()
        runner.gate.clear()
        service = TraceService(Settings())
        tasks = [asyncio.create_task(ask(service, runner, {"code": CODE, "seed": 0})) for _ in range(50)]
        await asyncio.sleep(0.05)
        assert runner.runs == 1  # 49 wait on the first
        runner.gate.set()
        results = await asyncio.gather(*tasks)
        assert len({r.body for r in results}) == 1 and runner.runs == 1
        assert sorted(r.source for r in results).count("flight") == 49
        again = await ask(service, runner, {"code": CODE, "seed": 0})
        assert again.source == "memory" and runner.runs == 1
        other = await ask(service, runner, {"code": CODE, "seed": 1})  # another seed is another trace
        assert other.key != again.key and runner.runs == 2
    run_async(main)


def test_a_waiter_that_hangs_up_does_not_cancel_the_shared_run():
    async def main():
        runner = CountingRunner()
        runner.gate.clear()
        service = TraceService(Settings())
        first = asyncio.create_task(ask(service, runner, {"code": CODE, "seed": 0}))
        second = asyncio.create_task(ask(service, runner, {"code": CODE, "seed": 0}))
        await asyncio.sleep(0.05)
        first.cancel()
        runner.gate.set()
        assert json.loads((await second).body)["status"] == "ok" and runner.runs == 1
    run_async(main)


def test_key_changes_with_version_settings_and_options():
    ns = cache_namespace(Settings())
    req = {"code": CODE, "seed": 0}
    assert trace_key(ns, req) == trace_key(cache_namespace(Settings()), dict(reversed(list(req.items()))))
    assert trace_key(ns, req) != trace_key(cache_namespace(Settings(max_steps=10)), req)
    assert trace_key(ns, req) != trace_key(ns, {**req, "format": "compact"})
    assert trace_key(ns, req) == trace_key(cache_namespace(Settings(workers=7, port=1)), req)  # server knobs


def test_lru_is_bounded_in_bytes():
    lru = ByteLRU(1000)
    for i in range(20):
        lru.put(str(i), b"x" * 200)
    assert lru.stats()["bytes"] <= 1000 and lru.get("19") and lru.get("0") is None
    lru.put("huge", b"x" * 600)  # over a quarter of the whole: never evicts the rest for one trace
    assert lru.get("huge") is None and lru.get("19")


def test_post_names_the_trace_and_get_serves_it_with_etag(counted):
    client, runner = counted
    r = client.post("/api/v1/traces", json={"code": CODE})
    assert r.status_code == 200
    key = r.headers["x-trace-key"]
    assert r.json()["trace_key"] == key and r.headers["content-location"] == f"/api/v1/traces/{key}"
    g = client.get(f"/api/v1/traces/{key}")
    assert g.status_code == 200 and g.content == r.content
    assert g.headers["etag"] == f'"{key}"'
    assert g.headers["cache-control"].startswith("public, max-age=") and "immutable" in g.headers["cache-control"]
    assert client.get(f"/api/v1/traces/{key}", headers={"If-None-Match": f'"{key}"'}).status_code == 304
    assert client.post("/api/v1/traces", json={"code": CODE}).headers["x-gradtrace-cache"] == "memory"
    assert runner.runs == 1
    assert client.get("/api/v1/health").json()["cache"]["runs"] == 1


def test_unknown_or_malformed_keys_are_404_and_not_cached(counted):
    client, _ = counted
    for key in ("0" * 32, "nope", "A" * 32, "0" * 64):
        r = client.get(f"/api/v1/traces/{key}")
        assert r.status_code == 404 and r.headers["cache-control"] == "no-store"


def test_error_traces_of_programs_are_cached_like_any_trace(counted):
    client, runner = counted
    for code in ("x = (", "import torch\ntorch.ones(2).backward()\n", "raise ValueError('no')\n"):
        first = client.post("/api/v1/traces", json={"code": code})
        assert first.json()["status"] == "error"
        assert client.get(f"/api/v1/traces/{first.headers['x-trace-key']}").status_code == 200
    assert runner.runs == 3


def test_snippet_trace_is_a_cacheable_get(counted, tmp_path):
    client, runner = counted
    sid = client.post("/api/v1/snippets", json={"code": CODE, "seed": 3}).json()["id"]
    r = client.get(f"/api/v1/snippets/{sid}/trace")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert "immutable" in r.headers["cache-control"] and r.headers["etag"] == f'"{r.headers["x-trace-key"]}"'
    assert client.get(f"/api/v1/snippets/{sid}/trace", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    # The same program and seed POSTed is the same cache entry: no second run.
    assert client.post("/api/v1/traces", json={"code": CODE, "seed": 3}).headers["x-trace-key"] == r.headers["x-trace-key"]
    assert runner.runs == 1
    assert client.get("/api/v1/snippets/zzzzzzzzzzzz/trace").status_code == 404


def test_snippet_trace_in_each_compact_version_is_the_posted_one(counted):
    client, _ = counted
    sid = client.post("/api/v1/snippets", json={"code": CODE, "seed": 3}).json()["id"]
    for query, version in (("format=compact", None), ("format=compact&compact_version=1", None),
                           ("format=compact&compact_version=2", 2)):
        got = client.get(f"/api/v1/snippets/{sid}/trace?{query}")  # what the page asks (the query's "2" is text)
        assert got.status_code == 200, got.text
        assert got.json()["format"] == "compact" and got.json().get("compact_version") == version
        posted = client.post("/api/v1/traces", json={"code": CODE, "seed": 3, "format": "compact",
                                                     "compact_version": version or 1})
        assert posted.headers["x-trace-key"] == got.headers["x-trace-key"]  # one cache entry for both ways in
    for bad in ("0", "3", "two"):
        assert client.get(f"/api/v1/snippets/{sid}/trace?format=compact&compact_version={bad}").status_code == 422


@pytest.fixture(scope="module")
def sandbox_service():
    settings = Settings(workers=1, queue_size=4, timeout_s=1.0, cpu_s=1, memory_mb=1280)
    runner = SandboxRunner(settings)
    runner.start()
    yield runner, settings
    runner.close()


def test_resource_limit_errors_are_not_cached_but_refusals_are(sandbox_service):
    runner, settings = sandbox_service

    async def main():
        service = TraceService(settings)
        spin = await ask(service, runner, {"code": "while True:\n    pass\n", "seed": 0})
        assert json.loads(spin.body)["error"]["kind"] == "timeout" and not spin.cacheable
        assert await service.lookup(spin.key) is None
        refused = await ask(service, runner, {"code": "import subprocess\n", "seed": 0})
        assert json.loads(refused.body)["error"]["kind"] == "refused" and refused.cacheable
        assert (await service.lookup(refused.key))[0] == refused.body
    run_async(main)


def test_the_page_computes_the_same_key_as_the_server(tmp_path):
    """trace-key.js (run by node) against keys.py, for programs with quotes, unicode and control characters."""
    import shutil
    import subprocess
    from pathlib import Path

    from gradtrace.web import page_config

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    settings = Settings()
    app = create_app(settings, runner=InProcessRunner())

    class _Req:  # page_config reads only app.state.settings
        pass
    req = _Req()
    req.app = app
    keys = page_config(req, "n")["traceKeys"]
    programs = [CODE, 'print("é ✓ \\u2028 \\x00\\x1f \\\\ \\" \\t")\n', "x = 1\r\n# 😀 emoji\n"]
    module = Path(__file__).resolve().parents[1] / "frontend" / "static" / "js" / "wire" / "trace-key.js"
    script = (f"import {{ traceKey }} from {json.dumps(module.as_uri())};\n"
              "const [keys, programs] = JSON.parse(process.argv[1]);\n"
              "for (const [i, code] of programs.entries()) console.log(await traceKey(keys, { code, seed: i }));\n")
    out = subprocess.run([node, "--input-type=module", "-e", script, json.dumps([keys, programs])],
                         capture_output=True, text=True, check=True).stdout.split()
    service = TraceService(settings)
    assert out == [service.key_of({**keys["defaults"], "code": code, "seed": i}) for i, code in enumerate(programs)]


def test_a_probe_miss_is_204_and_a_probe_hit_the_trace(counted):
    client, _ = counted
    assert client.get(f"/api/v1/traces/{'a' * 32}?probe=1").status_code == 204
    key = client.post("/api/v1/traces", json={"code": CODE}).headers["x-trace-key"]
    assert client.get(f"/api/v1/traces/{key}?probe=1").json()["trace_key"] == key


def test_a_saturated_pool_is_503_with_retry_after_for_every_waiter_and_nothing_is_cached():
    from gradtrace.runner import Saturated

    class FullRunner(InProcessRunner):
        calls = 0

        async def run(self, code, seed, **options):
            FullRunner.calls += 1
            raise Saturated(2.4)

    with TestClient(create_app(Settings(), runner=FullRunner())) as client:
        for _ in range(2):
            r = client.post("/api/v1/traces", json={"code": CODE})
            assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert FullRunner.calls == 2  # the refusal was not cached: the next request asks the pool again


def test_a_forged_result_is_a_sandbox_error_for_that_run_and_never_cached():
    """A run that writes its own result bytes (NaN where the schema wants numbers) must not poison the cache."""
    from gradtrace.sandbox.validate import SANDBOX_ERROR, validated

    good = json.dumps(InProcessRunner().run_sync(CODE, 0))
    forged = good.replace('"sum": 5.0', '"sum": NaN', 1).encode()
    assert forged != good.encode()

    class ForgingRunner(InProcessRunner):
        async def run(self, code, seed, **options):
            return validated(forged)  # what the sandbox runner does with the bytes a child hands back

    async def main():
        service = TraceService(Settings())
        runner = ForgingRunner()
        first = await ask(service, runner, {"code": CODE, "seed": 0})
        assert json.loads(first.body)["error"]["type"] == SANDBOX_ERROR and not first.cacheable
        assert await service.lookup(first.key) is None
    run_async(main)
