"""Every limit and knob of gradtrace, each overridable by a GRADTRACE_* environment variable."""
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .limits import RunLimits, TraceLimits

REPO_ROOT = Path(__file__).resolve().parents[2]


def _frontend_dir() -> Path:
    """The checkout's frontend/, else the copy an installed wheel carries (gradtrace/frontend)."""
    checkout = REPO_ROOT / "frontend"
    return checkout if (checkout / "templates").is_dir() else Path(__file__).resolve().parent / "frontend"


class Settings(BaseSettings, TraceLimits, RunLimits):
    """Server, sandbox and trace limits. `GRADTRACE_<NAME>` overrides each field. The fields that change what a
    trace contains come from TraceLimits and RunLimits (limits.py): the tracer, the sandbox and the cache key all
    read them from there, so a new one cannot be left out of the key."""

    model_config = SettingsConfigDict(env_prefix="GRADTRACE_", extra="ignore")

    # --- server ---
    host: str = Field("127.0.0.1", description="Address `gradtrace serve` binds to by default.")
    port: int = Field(8000, description="Port `gradtrace serve` listens on by default.")
    frontend_dir: Path = Field(default_factory=_frontend_dir, description="Folder with templates/ and static/ of the page.")
    snippet_db: Path = Field(Path("gradtrace-snippets.sqlite3"), description="SQLite file that stores short-link snippets.")

    # --- request limits ---
    max_code_bytes: int = Field(20_000, description="Largest program accepted, in UTF-8 bytes; larger gets HTTP 413.")

    # --- the HTTP door (uvicorn served directly; deploy/nginx mirrors these, see docs/security.md) ---
    max_body_bytes: int = Field(
        0, ge=0, description="Largest request body read, in bytes, whatever the transfer encoding (reading stops "
        "there: HTTP 413); 0 means 6 x max_code_bytes + 4 KiB (a fully JSON-escaped program).")
    max_header_bytes: int = Field(16_384, ge=1024, description="Largest request line + headers, in bytes (HTTP 400).")
    max_header_count: int = Field(100, ge=10, description="Most request headers (HTTP 431).")
    header_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a connection has to send a complete request head, from when it opened or "
        "its previous response ended; then it is closed (slow-header clients).")
    body_timeout_s: float = Field(20.0, gt=0, description="Seconds a request has to send its whole body (HTTP 408).")
    keepalive_timeout_s: int = Field(5, ge=1, description="Seconds an idle keep-alive connection stays open.")
    max_connections: int = Field(
        8192, ge=16, description="Open connections the server holds at once; more are closed on accept (the "
        "process's open-file limit is raised to fit).")
    max_connections_per_client: int = Field(
        2048, ge=1, description="Open connections per client address (a class of 300 behind one NAT opens up to "
        "~1800); more are closed on accept. Trusted proxies are exempt.")
    trusted_proxies: str = Field(
        "", description="Comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For names the client; "
        "empty: the socket address is the client.")
    shutdown_grace_s: int = Field(
        10, ge=1, description="On SIGTERM, seconds open requests get to finish before they are cut (live class "
        "event streams never finish by themselves: their browsers reconnect to another replica).")
    max_runs_per_client: int = Field(
        4, ge=1, description="Runs one client may have queued or running at once; more get HTTP 429 with Retry-After.")

    # --- sandbox ---
    workers: int = Field(2, description="Programs traced at the same time (size of the warm worker pool).")
    queue_size: int = Field(16, description="Requests allowed to wait for a worker; more get HTTP 503 with Retry-After.")
    sandbox_uid: int = Field(
        65534, description="Unprivileged uid and gid each run switches to when the server runs as root "
        "(default nobody; best a uid no other process uses).")
    sandbox_hugepages: bool = Field(
        True, description="Fold each warm parent's memory into transparent huge pages once it is warm (MADV_COLLAPSE, "
        "Linux 6.1+; skipped where unsupported), so forking a run's process and its exit copy and free ~100x fewer "
        "page-table entries (~10 ms less kernel CPU per run measured here). Changes no run's isolation or result.")
    sandbox_pretouch_pieces: int = Field(
        1, ge=0, le=3, description="Trusted warm-up traces (sandbox/pretouch.py) a spare child runs while it waits for "
        "its program, so most copy-on-write page faults a run takes are paid before the user waits; each costs CPU "
        "whether or not it was needed (measured here: 1 piece halves p50 for ~5 ms of CPU per idle run, 3 cost ~16 ms "
        "more; 0: none).")
    sandbox_pretouch_max_cpu_pressure: float = Field(
        0.5, ge=0, le=1, description="A spare skips its warm-up when, since the previous spare, some task waited for a "
        "CPU more than this share of the time (Linux PSI, /proc/pressure/cpu): on busy CPUs the warm-up takes CPU from "
        "runs instead of using idle time. 1: always warm up; without PSI spares always warm up.")
    sandbox_warm_gallery: bool = Field(
        True, description="Each warm parent traces every gallery example once at startup, so that torch's and the "
        "tracer's lazy first-use work (dispatch, op caches, imports) is done before any child is forked and no run "
        "pays it; off only shortens a pool's startup (the test suite's pools).")

    # --- result checks (a pool of processes, off the event loop; see gradtrace/wire) ---
    check_workers: int = Field(2, ge=1, description="Processes that check, convert and encode run results, so that "
                               "no result a program controls is parsed on the server's event loop.")
    check_task_cpu_s: float = Field(10.0, gt=0, description="CPU seconds one check or conversion may use; past it "
                                    "the run's answer is a SandboxError.")
    check_client_cpu_share: float = Field(
        0.5, gt=0, description="CPU seconds per second one client's result checks may use on average; a client past "
        "its budget waits before its next check (others do not).")
    check_client_cpu_burst_s: float = Field(4.0, gt=0, description="CPU seconds of checks a client may use at once "
                                            "before check_client_cpu_share applies.")
    max_answer_bytes: int = Field(
        16_000_000, ge=100_000, description="Largest answer in the format asked for, in bytes: the full format repeats "
        "each shared Values wherever it is used and can be hundreds of times the trace's size; past this the answer is "
        'HTTP 413, and `"format": "compact"` (about the size of the trace itself) still works.')

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

    # --- live class sessions (docs/class-api.md; replicas share them through Redis) ---
    class_idle_s: int = Field(
        7200, ge=10, description="A class session ends when its presenter has not driven it (state, question, "
        "reveal) for this many seconds; followers get an `end` event.")
    class_max_followers: int = Field(
        1500, ge=1, description="Most followers (open event streams) of one class session over all replicas; one "
        "more gets HTTP 429. Also the most answers one question accepts.")
    class_max_sessions: int = Field(
        2000, ge=1, description="Most live class sessions one server (or the Redis-backed cluster) holds; past it, "
        "creating one gets HTTP 503.")
    class_max_state_bytes: int = Field(
        16_384, ge=256, description="Largest presenter `state` (step + view) in UTF-8 JSON bytes; larger gets HTTP 413.")
    class_max_prompt_chars: int = Field(500, ge=1, description="Longest question prompt or choice, in characters (HTTP 413).")
    class_create_count: int = Field(
        30, ge=1, description="Class sessions one client may create per class_create_window_s; more get HTTP 429.")
    class_create_window_s: int = Field(3600, ge=1, description="Window of the per-client session-creation limit, in seconds.")
    class_join_misses: int = Field(
        60, ge=1, description="Lookups of unknown join codes one client may make per class_join_window_s (only "
        "misses count, so a hall joining the right code is never limited); more get HTTP 429.")
    class_join_window_s: int = Field(60, ge=1, description="Window of the per-client join-miss limit, in seconds.")
    class_answer_count: int = Field(
        1200, ge=1, description="Answers one client address may send per class_answer_window_s over all sessions "
        "(a hall of 300 behind one NAT answering a few questions a minute fits); more get HTTP 429.")
    class_answer_window_s: int = Field(60, ge=1, description="Window of the per-client answer-rate limit, in seconds.")
    class_tally_interval_s: float = Field(
        0.25, gt=0, description="Least time between two `tally` events of one question from one server (answers "
        "arriving faster are pushed together).")
    class_heartbeat_s: float = Field(
        15.0, gt=0, description="Seconds between heartbeat comments on an idle event stream (keeps proxies and "
        "NAT tables from closing it); follower counts are refreshed at the same pace.")
    class_retry_ms: int = Field(1000, ge=100, description="Reconnect delay the event stream asks browsers to use (SSE `retry:`).")

    # --- seats: telling students behind one address apart (docs/class-api.md, "A hall behind one address") ---
    max_runs_per_address: int = Field(
        12, ge=1, description="Runs one client address may have queued or running at once over all its seats (a "
        "hall behind one NAT shares it; keep it >= workers); more get HTTP 429 with Retry-After.")
    max_runs_per_seat: int = Field(
        2, ge=1, description="Runs one seat (a browser holding a signed seat cookie) may have queued or running at "
        "once; more get HTTP 429 with Retry-After. Without a seat, max_runs_per_client applies to the address.")
    seat_count: int = Field(
        1000, ge=1, description="Seat cookies one client address may be issued per seat_window_s (a hall of 300 "
        "reloading a few times fits); past it pages are served without a new seat.")
    seat_window_s: int = Field(3600, ge=1, description="Window of the per-address seat issuing limit, in seconds.")
    seat_secret: str = Field(
        "", description="Key that signs seat cookies; empty: shared through Redis when redis_url is set (so every "
        "replica accepts every seat), else random per process.")

    def body_limit(self) -> int:
        """The request body cap in bytes (max_body_bytes, or derived from max_code_bytes)."""
        return self.max_body_bytes or 6 * self.max_code_bytes + 4096


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
