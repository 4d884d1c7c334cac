"""Kernel resource limits of one run; soft == hard so a program can never raise them back."""
import resource

# Files a run may hold open: torch's already-open libraries don't count twice, lazy imports need a few.
NOFILE = 64


def apply(memory_mb: int, cpu_s: int, cap_processes: bool) -> dict:
    """Set the limits; `cap_processes` only when running as a dedicated non-root uid (NPROC is per uid
    and ignored for root). Returns what was set, for the health report."""
    mem = memory_mb * 1024 * 1024
    limits = {
        "AS": (resource.RLIMIT_AS, mem),  # address space: a huge tensor fails to allocate instead of OOM-killing
        "CPU": (resource.RLIMIT_CPU, cpu_s),  # SIGXCPU at the soft limit (caught), SIGKILL one second later
        "FSIZE": (resource.RLIMIT_FSIZE, 0),  # no file may grow, should any be writable
        "NOFILE": (resource.RLIMIT_NOFILE, NOFILE),
        "CORE": (resource.RLIMIT_CORE, 0),  # a crash leaves no core file behind
        "MEMLOCK": (resource.RLIMIT_MEMLOCK, 0),
        "MSGQUEUE": (resource.RLIMIT_MSGQUEUE, 0),
    }
    if cap_processes:
        limits["NPROC"] = (resource.RLIMIT_NPROC, 0)  # no process or thread can be created by this uid
    applied = {}
    for name, (res, value) in limits.items():
        soft, hard = (value, value + 1) if name == "CPU" else (value, value)
        resource.setrlimit(res, (soft, hard))
        applied[name] = value
    return applied
