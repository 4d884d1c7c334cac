"""The settings that change what a trace contains or whether a run completes: the one place they are defined.

Settings (config.py) inherits both models, the tracer reads TraceLimits, the sandbox options RunLimits and
TraceLimits, and the cache key (cache/keys.py) every field of both: a setting added here is in the key by
construction. Torch-free, so the server, the check pool and the sandbox child share it.
"""
from pydantic import BaseModel, Field


class TraceLimits(BaseModel):
    """Per-run recording limits, applied inside the tracer (each a GRADTRACE_* setting)."""

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
    max_trace_bytes: int = Field(
        4_000_000, description="Largest serialized trace; the tracer keeps under it by leaving out values and steps "
        "(Trace.omitted says what); the sandbox still refuses a larger one with kind 'limit'.")
    loop_head_iterations: int = Field(
        3, ge=1, description="A long loop records its first this many iterations in full (and its last one).")
    loop_full_iterations: int = Field(
        10, ge=1, description="Loops of at most this many iterations are recorded whole; longer ones are folded.")
    fd_max_elements: int = Field(16, ge=1, description="Largest leaf (in elements) a finite-difference check may nudge; "
                                 "each element costs two re-runs of the program.")
    fd_time_s: float = Field(2.0, description="Time the re-runs of one finite-difference check may take, in seconds.")

    @classmethod
    def from_settings(cls, settings) -> "TraceLimits":
        return cls(**{f: getattr(settings, f) for f in cls.model_fields})


class RunLimits(BaseModel):
    """Limits of one sandboxed run (each a GRADTRACE_* setting): they decide whether a run completes."""

    timeout_s: float = Field(5.0, description="Wall-clock limit of one run, in seconds (kind 'timeout').")
    cpu_s: int = Field(5, description="CPU-time limit of one run, in seconds (kind 'timeout').")
    memory_mb: int = Field(
        1536, description="Address-space limit of one run, in MiB (kind 'memory'); torch itself takes about 700 of it.")
    max_recursion: int = Field(200, description="Python recursion limit inside a run.")
    idle_limit_s: float = Field(
        1.0, gt=0, description="Seconds a run may spend neither computing nor waiting for a CPU (sleeping, "
        "blocked) before it is stopped (kind 'timeout'): a sleeping run does not hold a worker for timeout_s.")

    @classmethod
    def from_settings(cls, settings) -> "RunLimits":
        return cls(**{f: getattr(settings, f) for f in cls.model_fields})


def content_settings(settings) -> dict:
    """Every setting that changes a trace's content or outcome, by name (what the cache key is made of)."""
    return {**TraceLimits.from_settings(settings).model_dump(), **RunLimits.from_settings(settings).model_dump()}
