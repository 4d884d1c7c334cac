"""The server's check of what a child sent: JSON only, finite numbers only, and only what the Trace schema
allows. A program controls its own child completely, so its bytes are treated as hostile data: their size
was capped before reading (worker.py), and nothing here runs code of theirs or trusts a header of theirs."""
import json
import logging
import math
import re

import pydantic_core
from pydantic import ValidationError

from ..schema import Trace
from .results import error_trace

log = logging.getLogger("gradtrace.sandbox")
SANDBOX_ERROR = "SandboxError"
# A number only overflows to infinity with a 3+ digit positive exponent or 300+ digits; anything else skips
# the slow exact check below (a false alarm, e.g. such digits inside a string, only costs that check).
_MAYBE_OVERFLOW = re.compile(rb"[eE]\+?[0-9]{3}|[0-9]{300}")


class NonFinite(ValueError):
    """A number in the result is not finite (the spec encodes those as "nan", "inf", "-inf")."""


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value) or math.isnan(value):
        raise NonFinite(f"non-finite number {text[:40]}")
    return value


def _no_constants(name: str):
    raise NonFinite(f"non-finite constant {name}")


def parse_finite(payload: bytes):
    """JSON with finite numbers only: NaN, Infinity and numbers that overflow (1e999) are errors."""
    data = pydantic_core.from_json(payload, allow_inf_nan=False)
    if _MAYBE_OVERFLOW.search(payload):
        data = json.loads(payload, parse_float=_finite, parse_constant=_no_constants)
    return data


def invalid_result(message: str) -> dict:
    return error_trace("runtime", SANDBOX_ERROR, message)


def cacheable(trace: dict) -> bool:
    """Whether a trace says something about the program (not about the sandbox failing this once)."""
    error = trace.get("error") or {}
    return error.get("type") != SANDBOX_ERROR


def validated(payload: bytes, info: dict | None = None) -> dict:
    """The trace as a plain dict when it is a valid Trace; otherwise an error trace saying so."""
    try:
        data = parse_finite(payload)
        Trace.model_validate_json(payload)
        return data
    except (ValidationError, ValueError, RecursionError, MemoryError) as exc:
        log.warning("sandbox: child returned an invalid trace (%s); run info %s", str(exc)[:300], info)
        return invalid_result("the program's sandboxed process returned a malformed trace")
