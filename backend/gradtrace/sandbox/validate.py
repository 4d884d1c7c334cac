"""The server's check of what a child sent: JSON only, and only what the Trace schema allows.
A program controls its own child completely, so its bytes are treated as hostile data."""
import json
import logging

from pydantic import ValidationError

from ..schema import Trace
from .results import error_trace

log = logging.getLogger("gradtrace.sandbox")


def invalid_result(message: str) -> dict:
    return error_trace("runtime", "SandboxError", message)


def validated(payload: bytes, info: dict | None = None) -> dict:
    """The trace as a plain dict when it is a valid Trace; otherwise an error trace saying so."""
    try:
        Trace.model_validate_json(payload)
        return json.loads(payload)
    except (ValidationError, ValueError, RecursionError) as exc:
        log.warning("sandbox: child returned an invalid trace (%s); run info %s", str(exc)[:300], info)
        return invalid_result("the program's sandboxed process returned a malformed trace")
