"""The sandbox's CPU savings (issue 19) change how a run's process is made, never what it gets: the warm parent's
memory folded into huge pages, the seccomp filter packed once, the spare's warm-up pieces as set."""
import ctypes
import json
import mmap
import re
import socket
import struct
from pathlib import Path

import pytest

from gradtrace.config import Settings
from gradtrace.sandbox import SandboxRunner, hugepages, pretouch
from gradtrace.sandbox.layers import seccomp
from gradtrace.sandbox.options import Options
from gradtrace.tracer import Limits
from gradtrace.tracer.compact import expand

SETTINGS = dict(workers=1, queue_size=2, timeout_s=4.0, cpu_s=2, memory_mb=1280)
PROGRAM = "import torch\nx = torch.tensor([1.5, -2.0], requires_grad=True)\n(x * x).sum().backward()\nprint(x.grad)\n"


def _pack(prog) -> bytes:
    return b"".join(struct.pack("<HBBI", *ins) for ins in prog)


def test_prepared_seccomp_filter_is_the_filter_built_for_that_pid(monkeypatch):
    monkeypatch.setattr(seccomp, "_prepared", None)
    assert seccomp.packed(4321) == _pack(seccomp.build_filter(4321))  # unprepared: built on the spot
    seccomp.prepare()
    for pid in (2, 3, 999, 65535, 4194304):
        assert seccomp.packed(pid) == _pack(seccomp.build_filter(pid)), pid
    assert len(seccomp._prepared[1]) == 3  # kill, tkill, tgkill: the only instructions that name the pid


def test_hugepage_spans_are_private_writable_anonymous_memory_only():
    maps = "\n".join([
        "00400000-00a00000 r-xp 00000000 08:01 1 /usr/bin/python3.11",  # code
        "00a00000-00e00000 rw-p 00600000 08:01 1 /usr/bin/python3.11",  # a file's data
        "01000000-01700000 rw-p 00000000 00:00 0 [heap]",
        "7f0000100000-7f0000900000 rw-p 00000000 00:00 0 ",  # anonymous, unaligned start
        "7f0001000000-7f0001100000 rw-p 00000000 00:00 0 ",  # under 2 MiB once aligned
        "7f0002000000-7f0002400000 rw-s 00000000 00:05 7 /dev/zero (deleted)",  # shared
        "7f0003000000-7f0003400000 r--p 00000000 00:00 0 ",  # read-only
        "7ffc00000000-7ffc00800000 rw-p 00000000 00:00 0 [stack]",
    ])
    mib = 1 << 20
    assert hugepages._candidates(maps) == [(0x01000000, 0x01600000), (0x7f0000200000, 0x7f0000800000)]
    assert all((lo % (2 * mib), hi % (2 * mib)) == (0, 0) for lo, hi in hugepages._candidates(maps))


def _collapse_works() -> bool:
    """Whether this kernel folds anonymous memory into huge pages on request (MADV_COLLAPSE), tried on 8 MiB."""
    if "[never]" in Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text():
        return False
    area = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    area.write(b"x" * len(area))
    start = ctypes.addressof(ctypes.c_char.from_buffer(area))
    aligned = (start + hugepages.HUGE - 1) & ~(hugepages.HUGE - 1)
    try:
        return hugepages._libc.madvise(aligned, hugepages.HUGE, hugepages.MADV_COLLAPSE) == 0
    finally:
        del start
        area.close()


def _without_addresses(trace: dict) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x?", json.dumps(trace, sort_keys=True))


def _anon_huge_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.skipif(not _collapse_works(), reason="this kernel cannot collapse memory into huge pages")
def test_warm_parent_memory_is_in_huge_pages_and_runs_are_unchanged():
    from gradtrace.runner import InProcessRunner

    folded, flat = SandboxRunner(Settings(**SETTINGS)), SandboxRunner(Settings(**SETTINGS, sandbox_hugepages=False))
    try:
        folded.start()
        flat.start()
        report = folded._workers[0].report["hugepages"]
        assert report["huge_mb"] >= 64, report  # most of torch's ~200 MB of heap
        assert _anon_huge_mb(folded._workers[0].proc.pid) >= 64
        assert "hugepages" not in flat._workers[0].report
        expected = _without_addresses(InProcessRunner(Limits.from_settings(folded.settings)).run_sync(PROGRAM, seed=5))
        assert "tensor([ 3., -4.])" in expected
        for runner in (folded, flat, folded):  # the same trace from each, in a fresh child each time
            assert _without_addresses(expand(runner.run_sync(PROGRAM, seed=5))) == expected
    finally:
        folded.close()
        flat.close()


def test_settings_reach_the_sandbox_options(monkeypatch):
    assert Options.from_settings(Settings()).pretouch_pieces == 1 and Options.from_settings(Settings()).hugepages
    monkeypatch.setenv("GRADTRACE_SANDBOX_PRETOUCH_PIECES", "0")
    monkeypatch.setenv("GRADTRACE_SANDBOX_HUGEPAGES", "false")
    options = Options.from_settings(Settings())
    assert options.pretouch_pieces == 0 and options.hugepages is False
    assert Options.from_settings(Settings(sandbox_pretouch_pieces=2)).pretouch_pieces == 2
    with pytest.raises(ValueError):
        Settings(sandbox_pretouch_pieces=len(pretouch.PIECES) + 1)


@pytest.mark.parametrize("pieces", [0, 1, len(pretouch.PIECES)])
def test_a_spare_warms_up_with_as_many_pieces_as_set(pieces):
    ran = []
    ours, theirs = socket.socketpair()
    try:
        pretouch.run(theirs.fileno(), lambda code, seed, options: ran.append(code), Options(pretouch_pieces=pieces))
    finally:
        ours.close()
        theirs.close()
    assert ran == pretouch.PIECES[:pieces]


def test_a_waiting_request_skips_the_warm_up():
    ran = []
    ours, theirs = socket.socketpair()
    try:
        ours.send(b"\0\0\0\2{}")  # the request is already here
        pretouch.run(theirs.fileno(), lambda code, seed, options: ran.append(code), Options(pretouch_pieces=3))
    finally:
        ours.close()
        theirs.close()
    assert ran == []


def test_cpu_pressure_is_the_stalled_share_of_the_time_since_the_last_look(tmp_path, monkeypatch):
    from gradtrace.sandbox import pressure

    psi = tmp_path / "cpu"
    clock = [1_000_000_000]  # ns
    monkeypatch.setattr(pressure.time, "monotonic_ns", lambda: clock[0])

    def state(total_us: int):
        psi.write_text(f"some avg10=1.00 avg60=1.00 avg300=1.00 total={total_us}\nfull avg10=0.00 total=0\n")

    state(5_000)
    meter = pressure.CpuPressure(str(psi))
    clock[0] += 100_000_000  # 100 ms later, 30 ms of them stalled
    state(35_000)
    assert meter.since_last() == pytest.approx(0.3)
    clock[0] += 10_000_000  # 10 ms later, stalled throughout
    state(45_000)
    assert meter.since_last() == pytest.approx(1.0)
    psi.unlink()  # no PSI: nothing can be told, and the next reading starts over
    assert meter.since_last() is None
    assert pressure.CpuPressure(str(tmp_path / "missing")).since_last() is None


def test_a_spare_warms_up_only_when_the_cpus_were_not_busy():
    from gradtrace.sandbox.zygote import spare_warms

    options = Options(pretouch_pieces=1, pretouch_max_cpu_pressure=0.25)
    assert spare_warms(0.1, options) and spare_warms(0.25, options) and spare_warms(None, options)
    assert not spare_warms(0.26, options) and not spare_warms(1.0, options)
    assert spare_warms(1.0, Options(pretouch_pieces=1, pretouch_max_cpu_pressure=1.0))
    assert not spare_warms(0.0, Options(pretouch_pieces=0))
    assert Options.from_settings(Settings(sandbox_pretouch_max_cpu_pressure=0.5)).pretouch_max_cpu_pressure == 0.5
