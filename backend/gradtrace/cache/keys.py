"""A trace's cache key: what the program, its seed, gradtrace and the trace settings make of it."""
import hashlib
import json
import re

from .. import __version__
from ..config import Settings

# Settings that change what a trace contains or whether it completes; server-only knobs (ports, pool size) do not.
TRACE_SETTINGS = ("max_tensor_elements", "max_steps", "max_nodes", "max_backward_steps", "max_stdout_chars",
                  "max_tensor_mb", "max_trace_bytes", "timeout_s", "cpu_s", "memory_mb", "max_recursion")
KEY_HEX = 32  # 128 bits of SHA-256: a key both names the content and cannot be guessed from nothing
_KEY = re.compile(rf"^[0-9a-f]{{{KEY_HEX}}}$")


def cache_namespace(settings: Settings) -> str:
    """The part of every key that a gradtrace upgrade or a trace-setting change alters."""
    fixed = {name: getattr(settings, name, None) for name in TRACE_SETTINGS}
    text = json.dumps({"version": __version__, "settings": fixed}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_HEX]


def request_defaults() -> dict:
    """Every trace-request option at its default: the page adds them so its key matches the server's."""
    from ..schema import TraceRequest

    return {k: v for k, v in TraceRequest(code="").model_dump(mode="json").items() if k != "code"}


def trace_key(namespace: str, request: dict) -> str:
    """Hex key of one request (code, seed and every option such as `format`) under a namespace.

    frontend/static/js/wire/trace-key.js computes the same (sorted-key JSON, SHA-256) to GET before it POSTs.
    """
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = hashlib.sha256(f"{namespace}\n{canonical}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:KEY_HEX]


def valid_key(value: str) -> bool:
    return bool(_KEY.match(value))
