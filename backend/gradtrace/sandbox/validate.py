"""The server's check of what a child sent, for callers that want a dict (CLI, tests): gradtrace/wire/check.py
does the work (JSON only, finite numbers only, only what the Trace schema allows, rows that agree with their
shape). A program controls its own child completely, so its bytes are treated as hostile data: their size was
capped before reading (worker.py), and nothing here runs code of theirs or trusts a header of theirs."""
import json
import logging

from ..wire.check import Invalid, check_frame
from .results import error_trace

log = logging.getLogger("gradtrace.sandbox")
SANDBOX_ERROR = "SandboxError"
MALFORMED = "the program's sandboxed process returned a malformed trace"


def invalid_result(message: str) -> dict:
    return error_trace("runtime", SANDBOX_ERROR, message)


def cacheable(trace: dict) -> bool:
    """Whether a trace says something about the program (not about the sandbox failing this once)."""
    error = trace.get("error") or {}
    return error.get("type") != SANDBOX_ERROR


def validated(payload: bytes, info: dict | None = None, max_elements: int | None = None) -> dict:
    """The trace (canonical: compact version 1) as a plain dict when it is a valid Trace; else an error trace."""
    if max_elements is None:
        from ..config import get_settings

        max_elements = get_settings().max_tensor_elements
    try:
        body, _ = check_frame(payload, max_elements)
        return json.loads(body)
    except (Invalid, MemoryError) as exc:
        log.warning("sandbox: child returned an invalid trace (%s); run info %s", str(exc)[:300], info)
        return invalid_result(MALFORMED)
