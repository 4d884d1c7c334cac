"""A trace's cache key: what the program, its seed, gradtrace and the trace settings make of it."""
import hashlib
import json
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .. import __version__
from ..config import Settings
from ..limits import content_settings

_PACKAGE = Path(__file__).resolve().parents[1]
KEY_HEX = 32  # 128 bits of SHA-256: a key both names the content and cannot be guessed from nothing
_KEY = re.compile(rf"^[0-9a-f]{{{KEY_HEX}}}$")


@lru_cache(maxsize=1)
def build_identity() -> dict:
    """What made the traces: gradtrace's version and a hash of its code (a patched tracer is another build), and
    torch's version (read from its metadata: the server does not import torch)."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    return {"gradtrace": __version__, "code": digest.hexdigest()[:16], "torch": torch_version}


def cache_namespace(settings: Settings) -> str:
    """The part of every key that a build change or a change of any trace setting (limits.py) alters; server-only
    knobs (ports, pool sizes) do not."""
    text = json.dumps({"build": build_identity(), "settings": content_settings(settings)}, sort_keys=True, default=str)
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
