"""Every limit and knob of gradtrace, each overridable by a GRADTRACE_* environment variable."""
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Server, sandbox and trace limits. `GRADTRACE_<NAME>` overrides each field."""

    model_config = SettingsConfigDict(env_prefix="GRADTRACE_", extra="ignore")

    # --- server ---
    host: str = Field("127.0.0.1", description="Address `gradtrace serve` binds to by default.")
    port: int = Field(8000, description="Port `gradtrace serve` listens on by default.")
    frontend_dir: Path = Field(REPO_ROOT / "frontend", description="Folder with templates/ and static/ of the page.")
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
    fd_max_elements: int = Field(16, ge=1, description="Largest leaf (in elements) a finite-difference check may nudge; "
                                 "each element costs two re-runs of the program.")
    fd_time_s: float = Field(2.0, description="Time the re-runs of one finite-difference check may take, in seconds.")
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


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
