"""Fold the warm parent's memory into transparent huge pages once it is warm (MADV_COLLAPSE, Linux 6.1+).

fork() copies one page-table entry per written 4 KiB page of the ~225 MB warm parent (~57,000 of them, ~7 ms of
kernel time per run measured here) and the child's exit frees as many; a 2 MiB huge page is one entry for 512 pages.
A child that writes into one still copies only the 4 KiB it writes (the kernel splits the huge mapping in the
child first), so what a child can see or change is unchanged: this is the layout of memory, not what is in it.
Done in the warm parent only, before any child exists; skipped (reported) where the kernel cannot.
"""
import ctypes
import os

MADV_COLLAPSE = 25
HUGE = 2 * 1024 * 1024
_libc = ctypes.CDLL(None, use_errno=True)
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.madvise.restype = ctypes.c_int


def _candidates(maps_text: str) -> list[tuple[int, int]]:
    """Huge-page-aligned spans of private, writable, anonymous mappings (the heap, arenas, torch's own
    allocations): the memory fork() copies entries for. Files, stacks and special mappings are left alone."""
    spans = []
    for line in maps_text.splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        perms, path = parts[1], parts[5] if len(parts) > 5 else ""
        if perms[1] != "w" or perms[3] != "p" or path not in ("", "[heap]"):
            continue
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        lo, hi = (lo + HUGE - 1) & ~(HUGE - 1), hi & ~(HUGE - 1)
        if hi > lo:
            spans.append((lo, hi))
    return spans


def anon_huge_mb() -> float:
    """MiB of this process's anonymous memory mapped by huge pages."""
    try:
        with open("/proc/self/smaps_rollup") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def collapse() -> dict:
    """Collapse what can be collapsed; returns {'huge_mb', 'spans', 'failed', 'error'?} for the startup report.
    A span the kernel refuses (EINVAL: a mapping it cannot fold, EAGAIN/ENOMEM: no free huge page now) stays as
    it was: nothing depends on it but speed."""
    try:
        with open("/proc/self/maps") as f:
            spans = _candidates(f.read())
    except OSError as exc:
        return {"huge_mb": 0.0, "spans": 0, "failed": 0, "error": str(exc)}
    failed, errors = 0, set()
    for lo, hi in spans:
        if _libc.madvise(lo, hi - lo, MADV_COLLAPSE) != 0:
            failed += 1
            errors.add(os.strerror(ctypes.get_errno()))
    report = {"huge_mb": round(anon_huge_mb(), 1), "spans": len(spans), "failed": failed}
    if errors:
        report["error"] = "; ".join(sorted(errors))
    return report
