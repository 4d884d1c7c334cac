"""What the server accepts from a child: a complete, checksummed result, and only a valid Trace."""
import json

import pytest

from gradtrace.sandbox import channel
from gradtrace.sandbox.results import error_trace
from gradtrace.sandbox.validate import validated
from gradtrace.tracer.compact import expand

pytestmark = pytest.mark.security


def test_run_channel_takes_only_complete_bounded_frames():
    import os
    import time

    r, w = os.pipe()
    channel.write_frame(w, b'{"a": 1}')
    assert channel.read_frame(r, 1024) == b'{"a": 1}'
    os.write(w, (10**9).to_bytes(4, "big"))  # a header announcing 1 GB: refused before any of it is read
    with pytest.raises(channel.FrameTooLarge):
        channel.read_frame(r, 1024)
    os.write(w, (100).to_bytes(4, "big") + b"x" * 10)  # a torn frame: no result, once the deadline passes
    with pytest.raises(channel.Deadline):
        channel.read_frame(r, 1024, time.monotonic() + 0.2)
    os.close(w)
    with pytest.raises(channel.ChannelClosed):
        channel.read_frame(r, 1024)
    os.close(r)


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
    assert expand(validated(json.dumps(trace).encode())) == trace  # checked into the canonical (compact) form
