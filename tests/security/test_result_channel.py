"""What the server accepts from a child: a complete, checksummed result, and only a valid Trace."""
import json

import pytest

from gradtrace.sandbox.channel import ResultArea
from gradtrace.sandbox.results import error_trace
from gradtrace.sandbox.validate import validated

pytestmark = pytest.mark.security


def test_result_area_takes_only_complete_results():
    area = ResultArea(1024)
    assert area.take() is None  # nothing written yet
    assert area.put(b'{"a": 1}') and area.take() == b'{"a": 1}'
    area.map[30] ^= 0xFF  # a payload changed after its header: the checksum no longer matches
    assert area.take() is None
    assert not area.put(b"x" * 2000)  # larger than the area: refused, not truncated
    area.close()


@pytest.mark.parametrize("payload", [
    b"\xff\xfe not json",
    json.dumps({"version": 1, "status": "ok", "injected": True}).encode(),
    json.dumps(dict(error_trace("runtime", "E", "m"), extra="field")).encode(),
    json.dumps(dict(error_trace("runtime", "E", "m"), error={"kind": "pwned", "type": "", "message": "",
                                                              "line": None})).encode(),
    b'{"version":1,"stdout":' + b"[" * 100000 + b"]" * 100000 + b"}",
])
def test_invalid_results_become_a_sandbox_error(payload):
    result = validated(payload)
    assert result["error"]["type"] == "SandboxError" and result["status"] == "error"


def test_valid_result_passes_unchanged():
    trace = error_trace("timeout", "TimeoutError", "slow", 3, stdout="hi\n")
    assert validated(json.dumps(trace).encode()) == trace
