"""How busy the machine's CPUs were lately (Linux pressure stall information, /proc/pressure/cpu): the share of
wall time in which some task was ready to run but waited for a CPU. The warm parent asks before each spare's
warm-up (pretouch.py): on a busy machine a warm-up only takes CPU from runs, on an idle one it is free."""
import time

PSI_CPU = "/proc/pressure/cpu"


class CpuPressure:
    def __init__(self, path: str = PSI_CPU):
        self.path = path
        self.last = self._read()

    def _read(self) -> tuple[int, int] | None:
        """(µs some task waited, µs of wall clock) now; None without PSI (old kernel, psi=0, no /proc)."""
        try:
            with open(self.path, "rb") as f:
                some = f.readline()  # b"some avg10=0.00 avg60=0.00 avg300=0.00 total=12345"
            return int(some.rsplit(b"total=", 1)[1]), time.monotonic_ns() // 1000
        except (OSError, ValueError, IndexError):
            return None

    def since_last(self) -> float | None:
        """The stalled share of the time since the previous call (0..1), or None when it cannot be told."""
        now, last = self._read(), self.last
        self.last = now
        if now is None or last is None or now[1] <= last[1]:
            return None
        return min(1.0, max(0.0, (now[0] - last[0]) / (now[1] - last[1])))
