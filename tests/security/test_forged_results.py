"""A run writes its own result bytes on its run socket (it controls its process): forged numbers and forged
frame headers. Before issue 12 the server accepted NaN/Infinity/1e999 (then failed to encode them: HTTP 500,
and the same for every later opening of a share link) and a forged header made the warm parent burn CPU.
Now each is a clear `SandboxError` for that run only, never cached, and costs the warm parent nothing."""
import base64
import json
import time
import zlib

import pytest
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse

from gradtrace.api.app import create_app
from gradtrace.sandbox.validate import cacheable, validated
from gradtrace.schema import Trace
from gradtrace.tracer import trace
from gradtrace.tracer.compact import expand

from .conftest import assert_benign_works, security_settings

pytestmark = pytest.mark.security


def base_payload() -> str:
    result = trace("import torch\nx = torch.tensor([7.25, 1.5], requires_grad=True)\ny = (x * 2).sum()\n")
    text = json.dumps(result, separators=(",", ":"))
    assert "7.25" in text
    return text


FORGED_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E+400", "1" * 400 + ".0", "1e309"]


def forged(number: str) -> bytes:
    return base_payload().replace("7.25", number, 1).encode()


def old_validated(payload: bytes) -> dict:
    """The server's check before issue 12 (a fixture of the old behaviour)."""
    Trace.model_validate_json(payload)
    return json.loads(payload)


def writer(frame_expr: str) -> str:
    """A program that writes `frame_expr` (bytes) on every socket it holds (its run socket), then exits."""
    return f'''import os, stat, base64, time
frame = {frame_expr}
for fd in range(3, 256):
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            view = memoryview(frame)
            while view:
                view = view[os.write(fd, view):]
    except OSError:
        pass
os._exit(0)
'''


def frame_of(payload: bytes) -> str:
    return f'(lambda d: len(d).to_bytes(4, "big") + d)(base64.b64decode("{base64.b64encode(payload).decode()}"))'


@pytest.mark.parametrize("number", FORGED_NUMBERS)
def test_forged_number_passed_the_old_check_and_broke_the_response(number):
    accepted = old_validated(forged(number))
    with pytest.raises(ValueError):
        JSONResponse(accepted)  # what made the API answer 500
    assert validated(forged(number))["error"]["type"] == "SandboxError"


@pytest.mark.parametrize("number", FORGED_NUMBERS)
def test_forged_number_from_a_run_is_a_sandbox_error(os_only_sandbox, number):
    result = os_only_sandbox.run_sync(writer(frame_of(forged(number))))
    assert result["status"] == "error" and result["error"]["type"] == "SandboxError", result["error"]
    json.dumps(result, allow_nan=False)
    assert not cacheable(result)


def test_forged_number_over_http_is_a_200_with_a_sandbox_error(os_only_sandbox):
    with TestClient(create_app(security_settings(), runner=os_only_sandbox)) as client:
        for number in ("NaN", "1e999"):
            response = client.post("/api/v1/traces", json={"code": writer(frame_of(forged(number)))})
            assert response.status_code == 200
            assert response.json()["error"]["type"] == "SandboxError"
        assert client.post("/api/v1/traces", json={"code": "x = 1\n"}).json()["status"] == "ok"


def test_a_real_trace_still_passes(os_only_sandbox):
    payload = base_payload().encode()
    assert expand(validated(payload)) == json.loads(payload)  # checked into the canonical (compact) form, lossless
    result = os_only_sandbox.run_sync(writer(frame_of(payload)))
    assert result["status"] == "ok"  # a forged but valid trace is its own
    assert expand(result)["tensors"][0]["data"]["values"] == [7.25, 1.5]


def _zygote_cpu_s(runner) -> float:
    pid = runner._workers[0].proc.pid
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def test_forged_header_cost_the_old_parent_cpu():
    """The old warm parent polled a shared area and checksummed whatever length its header claimed."""
    import mmap
    import struct

    header = struct.Struct("<8sQI4x")
    area = mmap.mmap(-1, 4_000_000 + header.size, flags=mmap.MAP_SHARED)
    area[:header.size] = header.pack(b"GTRACE01", 4_000_000, 0)  # a complete-looking header, wrong checksum
    processed, started = 0, time.monotonic()
    while time.monotonic() - started < 0.3:  # the old parent's poll loop over a 0.3 s run
        magic, n, crc = header.unpack(area[:header.size])
        payload = bytes(area[header.size:header.size + n])
        assert zlib.crc32(payload) != crc
        processed += 2 * n  # copied, then checksummed, on every poll
        time.sleep(0.0005)
    assert processed >= 100_000_000  # hundreds of MB of work per run, chosen by the run's own header


@pytest.mark.parametrize("header", [b"\xff\xff\xff\xff", (50_000_000).to_bytes(4, "big"),
                                    (1000).to_bytes(4, "big") + b"{" * 10])
def test_forged_header_costs_the_warm_parent_nothing(os_only_sandbox, header):
    _ = os_only_sandbox.run_sync("x = 1\n")
    before = _zygote_cpu_s(os_only_sandbox)
    for _ in range(3):
        result = os_only_sandbox.run_sync(writer(repr(header)).replace("os._exit(0)", "time.sleep(0.3)\nos._exit(0)"))
        assert result["status"] == "error", result
    assert _zygote_cpu_s(os_only_sandbox) - before < 0.15  # three runs: fork + reap only, no result handling
    assert_benign_works(os_only_sandbox)


def test_oversized_and_deep_results_are_refused_before_parsing(os_only_sandbox):
    limit = os_only_sandbox.options.max_trace_bytes
    huge = os_only_sandbox.run_sync(writer(f'(b"\\x00" + ({limit} + 10000).to_bytes(3, "big")) + b"[" * 64'))
    assert huge["error"]["type"] == "SandboxError"
    deep = b'{"version":1,"stdout":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    assert validated(deep)["error"]["type"] == "SandboxError"
    started = time.process_time()
    assert validated(b"[" + b"1e308," * 500_000 + b"1]")["error"]["type"] == "SandboxError"
    assert time.process_time() - started < 2.0  # bounded by the size cap, linear in it
