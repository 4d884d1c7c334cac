"""What each hostile result of tests/security/stall_attacks.py costs the server, old code against new, on the same
frames (issue 19). The old server ran all of it on its event loop, holding the GIL; the new one runs the check and
the conversion in its check pool (gradtrace/wire), bounded.

  old: the regex pre-check `[eE]\\+?[0-9]{3}|[0-9]{300}` (and the exact re-parse it triggers), JSON parse and schema
       validation, then expansion to `full` and encoding (sizes past 200 MB are reported, not built)
  new: wire.check.check_frame (schema, linear row/ref checks, canonical encode) and wire.render to `full`
       (refused past max_answer_bytes before anything is built)
CPU seconds of this process (time.process_time), median of --repeat.
Usage: .venv/bin/python bench/stall_bench.py [--repeat 3]
"""
import argparse
import json
import math
import re
import statistics
import sys
import time
from pathlib import Path

import pydantic_core

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "security"))
from stall_attacks import ATTACKS  # noqa: E402

from gradtrace.config import Settings  # noqa: E402
from gradtrace.sandbox import SandboxRunner  # noqa: E402
from gradtrace.schema import Trace  # noqa: E402
from gradtrace.tracer.compact import expand  # noqa: E402
from gradtrace.wire.check import check_frame  # noqa: E402
from gradtrace.wire.render import TooLarge, full_size, render  # noqa: E402

_OLD_OVERFLOW = re.compile(rb"[eE]\+?[0-9]{3}|[0-9]{300}")  # the old validate.py's pre-check
BUILD_LIMIT = 200_000_000


def _finite(text):
    value = float(text)
    if math.isinf(value) or math.isnan(value):
        raise ValueError(text[:40])
    return value


def old_path(payload: bytes) -> tuple[float, str]:
    started = time.process_time()
    data = pydantic_core.from_json(payload, allow_inf_nan=False)
    if _OLD_OVERFLOW.search(payload):
        data = json.loads(payload, parse_float=_finite)
    Trace.model_validate_json(payload)
    took = time.process_time() - started
    size = full_size(json.loads(json.dumps(data)), len(payload), 10**13)  # what the old expansion would build (untimed)
    if size > BUILD_LIMIT:
        return took, f"would build {size / 1e9:.1f} GB (not run)"
    started = time.process_time()
    body = json.dumps(expand(data), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    return took + time.process_time() - started, f"built {len(body) / 1e6:.1f} MB"


def new_path(payload: bytes, cap: int) -> tuple[float, str]:
    started = time.process_time()
    canonical, _ = check_frame(payload, 256)
    try:
        note = f"built {len(render(canonical, 'full', 1, 'k' * 32, cap)) / 1e6:.1f} MB"
    except TooLarge as exc:
        note = f"413 at {exc.size / 1e6:.0f} MB"
    return time.process_time() - started, note


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cap = Settings().max_answer_bytes
    runner = SandboxRunner(Settings(workers=1), language_guards=False)
    runner.start()
    try:
        frames = {name: runner.run_payload(code, 1) for name, code in ATTACKS.items()}
    finally:
        runner.close()
    print("| attack | frame | old CPU s | old full answer | new CPU s | new full answer | new ms per MB |")
    print("|---|---|---|---|---|---|---|")
    for name, payload in frames.items():
        old = [old_path(payload) for _ in range(args.repeat)]
        new = [new_path(payload, cap) for _ in range(args.repeat)]
        o, n = statistics.median(t for t, _ in old), statistics.median(t for t, _ in new)
        mb = len(payload) / 1e6
        print(f"| {name} | {mb:.2f} MB | {o:.2f} | {old[0][1]} | {n:.3f} | {new[0][1]} | {n * 1000 / mb:.0f} |")


if __name__ == "__main__":
    main()
