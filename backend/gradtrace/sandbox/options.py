"""Everything a warm parent and its children need to know, passed as JSON on the command line
(never through the environment, which stays empty)."""
import sysconfig
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..tracer import Limits

NOBODY = 65534
# Seconds between the soft wall-clock limit (the program is interrupted, a partial trace comes back) and
# the hard one (the parent kills the child).
KILL_GRACE_S = 1.0


def default_read_paths() -> list[str]:
    """Trees a child may read: Python's stdlib, site-packages, gradtrace itself, system libraries."""
    paths = sysconfig.get_paths()
    own = str(Path(__file__).resolve().parents[1])
    return sorted({paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"], own,
                   "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib"})


@dataclass
class Options:
    timeout_s: float = 5.0
    cpu_s: int = 5
    memory_mb: int = 1536
    max_recursion: int = 200
    idle_limit_s: float = 0.0  # 0: no idle stop
    max_trace_bytes: int = 4_000_000
    limits: dict = field(default_factory=lambda: asdict(Limits()))
    uid: int = NOBODY
    gid: int = NOBODY
    language_guards: bool = True  # off only in tests that show the OS layers hold on their own
    read_paths: list = field(default_factory=default_read_paths)

    @classmethod
    def from_settings(cls, settings, **overrides) -> "Options":
        return cls(timeout_s=settings.timeout_s, cpu_s=settings.cpu_s, memory_mb=settings.memory_mb,
                   max_recursion=settings.max_recursion, idle_limit_s=getattr(settings, "idle_limit_s", 0.0),
                max_trace_bytes=settings.max_trace_bytes,
                   limits=asdict(Limits.from_settings(settings)), uid=settings.sandbox_uid,
                   gid=settings.sandbox_uid, **overrides)

    def tracer_limits(self) -> Limits:
        return Limits(**self.limits)

    def death_limits(self) -> dict:
        return {"timeout_s": self.timeout_s, "cpu_s": self.cpu_s, "memory_mb": self.memory_mb}
