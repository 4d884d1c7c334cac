"""Everything a warm parent and its children need to know, passed as JSON on the command line
(never through the environment, which stays empty)."""
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from ..limits import RunLimits, TraceLimits
from ..tracer import Limits

NOBODY = 65534
# Seconds between the soft wall-clock limit (the program is interrupted, a partial trace comes back) and
# the hard one (the parent kills the child).
KILL_GRACE_S = 1.0
# Spare children each warm parent keeps ahead: while the server runs a program in one, the next is forked, isolated
# and warmed (pretouch.py) by the time the next request comes, instead of being forked when the run ends.
SPARES = 2


def default_read_paths() -> list[str]:
    """Trees a child may read: Python's stdlib, site-packages, gradtrace itself, system libraries."""
    paths = sysconfig.get_paths()
    own = str(Path(__file__).resolve().parents[1])
    return sorted({paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"], own,
                   "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib"})


_RUN, _TRACE = RunLimits(), TraceLimits()


@dataclass
class Options:
    """Defaults from the one settings model (gradtrace/limits.py); from_settings copies every field of it."""
    timeout_s: float = _RUN.timeout_s
    cpu_s: int = _RUN.cpu_s
    memory_mb: int = _RUN.memory_mb
    max_recursion: int = _RUN.max_recursion
    idle_limit_s: float = 0.0  # 0: no idle stop (a server's Options always take the setting's)
    max_trace_bytes: int = _TRACE.max_trace_bytes
    limits: dict = field(default_factory=lambda: TraceLimits().model_dump())
    uid: int = NOBODY
    gid: int = NOBODY
    language_guards: bool = True  # off only in tests that show the OS layers hold on their own
    hugepages: bool = True  # settings.sandbox_hugepages: the warm parent's memory in huge pages (hugepages.py)
    pretouch_pieces: int = 1  # settings.sandbox_pretouch_pieces: warm-up traces of a spare (pretouch.py)
    pretouch_max_cpu_pressure: float = 0.5  # settings.sandbox_pretouch_max_cpu_pressure (pressure.py)
    warm_gallery: bool = True  # the warm parent traces the gallery before forking (settings.sandbox_warm_gallery)
    read_paths: list = field(default_factory=default_read_paths)

    @classmethod
    def from_settings(cls, settings, **overrides) -> "Options":
        trace = TraceLimits.from_settings(settings)
        return cls(**RunLimits.from_settings(settings).model_dump(), max_trace_bytes=trace.max_trace_bytes,
                   limits=trace.model_dump(), uid=settings.sandbox_uid, gid=settings.sandbox_uid,
                   **{"hugepages": settings.sandbox_hugepages,
                      "pretouch_pieces": settings.sandbox_pretouch_pieces,
                      "pretouch_max_cpu_pressure": settings.sandbox_pretouch_max_cpu_pressure,
                      "warm_gallery": settings.sandbox_warm_gallery, **overrides})

    def tracer_limits(self) -> Limits:
        return Limits(**self.limits)

    def death_limits(self) -> dict:
        return {"timeout_s": self.timeout_s, "cpu_s": self.cpu_s, "memory_mb": self.memory_mb}
