"""REST API v1: status codes, shapes and the never-500 rule."""
import copy

import pytest

from gradtrace.examples import examples
from gradtrace.runner import Saturated
from gradtrace.schema import CompactTraceV2, Trace

BASIC = "import torch\na = torch.tensor([1., 2.], requires_grad=True)\nb = (a * a).sum()\nb.backward()\n"


def test_trace_ok_matches_schema_and_torch(api):
    r = api.post("/api/v1/traces", json={"code": BASIC})
    assert r.status_code == 200
    trace = Trace.model_validate(r.json())
    assert trace.status == "ok"
    a = next(t for t in trace.tensors if t.name == "a")
    assert a.grad.values == [2.0, 4.0]  # d(sum a²)/da = 2a
    assert [n.name for n in trace.nodes if n.id in {s.node for s in trace.backward[0].steps}]


def test_program_error_is_200_with_error(api):
    r = api.post("/api/v1/traces", json={"code": "import torch\nx = torch.ones(2)\ny = x @ torch.ones(3)\n"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "error"
    assert body["error"]["kind"] == "runtime" and body["error"]["line"] == 3
    assert [t["name"] for t in body["tensors"]] == ["x", None]  # the partial trace survives


def test_syntax_error(api):
    body = api.post("/api/v1/traces", json={"code": "x = (1,\n"}).json()
    assert body["status"] == "error" and body["error"]["kind"] == "syntax"
    assert body["error"]["type"] == "SyntaxError" and body["error"]["line"] == 1


def test_code_too_large_is_413(api, settings):
    r = api.post("/api/v1/traces", json={"code": "#" * (settings.max_code_bytes + 1)})
    assert r.status_code == 413


def test_huge_body_refused_before_parsing(api):
    r = api.post("/api/v1/traces", content=b'{"code": "' + b"x" * 200_000 + b'"}',
                 headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("body", [{}, {"code": 3}, {"code": "x", "seed": "abc"}, {"code": "x", "seed": 2**70}, [],
                                  {"code": "x", "seed": False}, {"code": "x", "seed": 1.5}, {"code": "x", "seed": "1"}])
def test_malformed_is_422(api, body):
    assert api.post("/api/v1/traces", json=body).status_code == 422


def test_not_json_is_422(api):
    r = api.post("/api/v1/traces", content=b"\xff\xfe not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_seed_makes_traces_repeatable(api):
    code = "import torch\nx = torch.randn(3)\n"
    one = api.post("/api/v1/traces", json={"code": code, "seed": 7}).json()
    two = api.post("/api/v1/traces", json={"code": code, "seed": 7}).json()
    other = api.post("/api/v1/traces", json={"code": code, "seed": 8}).json()
    assert one == two
    assert one["tensors"][0]["data"] != other["tensors"][0]["data"]


def test_examples_endpoint(api):
    body = api.get("/api/v1/examples").json()
    assert [e["id"] for e in body] == [e["id"] for e in examples()]
    assert all(e["title"] and e["description"] and e["code"] for e in body)


def test_health(api):
    body = api.get("/api/v1/health").json()
    assert body["status"] == "ok"


def test_saturated_runner_gives_503_with_retry_after(settings):
    from fastapi.testclient import TestClient

    from gradtrace.api.app import create_app

    class Busy:
        async def run(self, code, seed):
            raise Saturated(retry_after=2.4)

        def health(self):
            return {"ready": True}

        def close(self):
            pass

    with TestClient(create_app(settings, runner=Busy())) as client:
        r = client.post("/api/v1/traces", json={"code": "x = 1"})
    assert r.status_code == 503 and r.headers["retry-after"] == "2"


def test_openapi_publishes_trace_schema(api):
    spec = api.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in ("Trace", "Tensor", "Node", "ForwardStep", "BackwardPass", "BackwardStep", "Values", "Error"):
        assert name in schemas
    assert set(schemas["Trace"]["required"]) >= {"version", "status", "tensors", "nodes", "forward", "backward"}


def test_format_compact_is_the_same_trace_with_a_value_table(api):
    full = api.post("/api/v1/traces", json={"code": BASIC}).json()
    v1 = api.post("/api/v1/traces", json={"code": BASIC, "format": "compact"}).json()
    compact = api.post("/api/v1/traces", json={"code": BASIC, "format": "compact", "compact_version": 2}).json()
    assert "format" not in full and "value_table" not in full                 # the default stays the v1 contract
    assert v1["format"] == "compact" and "compact_version" not in v1 and isinstance(v1["tensors"], list)  # what older readers know
    Trace.model_validate(v1)
    assert compact["format"] == "compact" and compact["compact_version"] == 2       # column tables (docs: Compact format)
    assert isinstance(compact["tensors"]["c"]["data"], (list, dict)) and len(compact["atoms"]) > 0
    CompactTraceV2.model_validate(compact)
    from gradtrace.tracer.compact import compact as to_compact, expand
    Trace.model_validate(to_compact(copy.deepcopy(compact), 1))  # version 1: a Trace whose Values are refs
    full.pop("trace_key"), compact.pop("trace_key"), v1.pop("trace_key")  # names the request (its format too), not the trace
    assert expand(compact) == full and expand(v1) == full
    again = api.post("/api/v1/traces", json={"code": BASIC, "format": "full"}).json()
    again.pop("trace_key")
    assert again == full


@pytest.mark.parametrize("version", [0, 3, "2", None])
def test_unknown_compact_version_is_422(api, version):
    r = api.post("/api/v1/traces", json={"code": BASIC, "format": "compact", "compact_version": version})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("fmt", ["tiny", 1, None])
def test_unknown_format_is_422(api, fmt):
    assert api.post("/api/v1/traces", json={"code": BASIC, "format": fmt}).status_code == 422
