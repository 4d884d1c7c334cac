"""The API server process does not load torch (issue 19): only the sandbox's warm parents need it. Read from the
running `gradtrace serve` process's memory map (no debug endpoint), after it has served a trace."""
import os
import shutil
from pathlib import Path

import pytest

from .procs import Replica, scratch
from .test_replicas import http

pytestmark = pytest.mark.services


def maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(c) for c in text.split()]
    return found


def test_the_server_process_never_loads_torch_but_its_warm_parents_do():
    work = scratch("gt-torchfree-")
    replica = Replica({**os.environ, "GRADTRACE_WORKERS": "1", "GRADTRACE_SNIPPET_DB": str(work / "s.sqlite3")}, work)
    try:
        status, _, body = http("POST", replica.base + "/api/v1/traces",
                               {"code": "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 2).sum().backward()\n",
                                "format": "compact", "compact_version": 2})
        assert status == 200 and b'"status":"ok"' in body
        assert "libtorch" not in maps(replica.proc.pid)  # served a trace, checked and converted it: no torch here
        kids = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children(replica.proc.pid)}
        zygotes = [pid for pid, cmd in kids.items() if b"gradtrace.sandbox.zygote" in cmd]
        checkers = [pid for pid, cmd in kids.items() if b"gradtrace.wire.checker" in cmd]
        assert zygotes and all("libtorch" in maps(pid) for pid in zygotes)  # the method sees torch where it is
        assert checkers and not any("libtorch" in maps(pid) for pid in checkers)
    finally:
        replica.close()
        shutil.rmtree(work, ignore_errors=True)
