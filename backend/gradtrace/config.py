"""Every limit and knob of gradtrace, each overridable by a GRADTRACE_* environment variable."""
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


def _frontend_dir() -> Path:
    """The checkout's frontend/, else the copy an installed wheel carries (gradtrace/frontend)."""
    checkout = REPO_ROOT / "frontend"
    return checkout if (checkout / "templates").is_dir() else Path(__file__).resolve().parent / "frontend"


class Settings(BaseSettings):
    """Server, sandbox and trace limits. `GRADTRACE_<NAME>` overrides each field."""

    model_config = SettingsConfigDict(env_prefix="GRADTRACE_", extra="ignore")

    # --- server ---
    host: str = Field("127.0.0.1", description="Address `gradtrace serve` binds to by default.")
    port: int = Field(8000, description="Port `gradtrace serve` listens on by default.")
    frontend_dir: Path = Field(default_factory=_frontend_dir, description="Folder with templates/ and static/ of the page.")
    snippet_db: Path = Field(Path("gradtrace-snippets.sqlite3"), description="SQLite file that stores short-link snippets.")

    # --- request limits ---
    max_code_bytes: int = Field(20_000, description="Largest program accepted, in UTF-8 bytes; larger gets HTTP 413.")

    # --- trace limits (applied inside the tracer) ---
    max_tensor_elements: int = Field(
        256, ge=64, description="Tensors with at most this many elements are sent whole; larger ones only as min/max/mean/sum."
    )
    max_steps: int = Field(5_000, description="Most forward steps recorded before the run stops with kind 'limit'.")
    max_nodes: int = Field(5_000, description="Most autograd nodes recorded before the run stops with kind 'limit'.")
    max_backward_steps: int = Field(20_000, description="Most node executions recorded over all backward passes.")
    max_stdout_chars: int = Field(20_000, description="Printed output kept; the rest is cut with a marker.")
    max_tensor_mb: int = Field(
        256, description="Most MiB of tensor data the trace may keep alive (it holds every tensor it shows); more ends "
        "the run with kind 'limit'.")
    max_trace_bytes: int = Field(4_000_000, description="Largest serialized trace; a larger one ends with kind 'limit'.")

    # --- sandbox ---
    workers: int = Field(2, description="Programs traced at the same time (size of the warm worker pool).")
    queue_size: int = Field(16, description="Requests allowed to wait for a worker; more get HTTP 503 with Retry-After.")
    timeout_s: float = Field(5.0, description="Wall-clock limit of one run, in seconds (kind 'timeout').")
    cpu_s: int = Field(5, description="CPU-time limit of one run, in seconds (kind 'timeout').")
    memory_mb: int = Field(
        1536, description="Address-space limit of one run, in MiB (kind 'memory'); torch itself takes about 700 of it.")
    max_recursion: int = Field(200, description="Python recursion limit inside a run.")
    sandbox_uid: int = Field(
        65534, description="Unprivileged uid and gid each run switches to when the server runs as root "
        "(default nobody; best a uid no other process uses).")

    # --- trace cache and snippet store (replicas share them through Redis and PostgreSQL) ---
    trace_cache_mb: int = Field(64, ge=0, description="In-memory LRU of finished traces per process, in MB (0: off).")
    trace_cache_ttl_s: int = Field(7 * 86400, description="How long the shared (Redis) cache keeps a trace, in seconds.")
    trace_max_age_s: int = Field(86400, description="max-age of cacheable trace GETs (their URL names the content).")
    redis_url: str | None = Field(None, description="Redis URL of a trace cache shared by all replicas (unset: none).")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the snippet store, e.g. postgresql://u:p@db/gradtrace (unset: snippet_db).")
    snippet_max_bytes: int = Field(20_000, description="Largest stored snippet, in UTF-8 bytes; larger gets HTTP 413.")
    snippet_max_count: int = Field(200_000, description="Most snippets kept; past it the least recently used go.")
    snippet_rate_count: int = Field(60, description="Snippets one client may create per window; more get HTTP 429.")
    snippet_rate_window_s: int = Field(600, description="Window of the per-client snippet rate limit, in seconds.")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
