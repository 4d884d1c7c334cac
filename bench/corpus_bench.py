"""Trace time and trace size for every program of the corpus (tests/corpus/), through the sandbox.

For each program, in the same process and the same run: the plain run (exec in a fresh namespace, torch
already imported and the program run once untimed, stdout captured) and the sandboxed trace (a warm SandboxRunner with the server's default
limits, as `POST /api/v1/traces` runs it): wall time of each, their ratio, the trace's JSON size and how the
run ended (ok, or the error kind). The median of `--rounds` runs is reported.
Usage: .venv/bin/python bench/corpus_bench.py [--rounds 1] [--only NAME ...] [--json]
"""
import argparse
import contextlib
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gradtrace.config import Settings
from gradtrace.sandbox import SandboxRunner

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"


def plain_seconds(code: str) -> float:
    """One plain run, seeded like the tracer; a program's own failure still counts its time."""
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    grad_mode, dtype = torch.is_grad_enabled(), torch.get_default_dtype()
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, "<plain-program>", "exec"), {"__name__": "__main__"})
    except Exception:  # noqa: BLE001 - the program's failure is not the bench's
        pass
    finally:
        elapsed = time.perf_counter() - started
        torch.set_grad_enabled(grad_mode)
        torch.set_default_dtype(dtype)
        torch.set_default_device(None)
    return elapsed


def traced(runner: SandboxRunner, code: str) -> tuple[float, int, str]:
    started = time.perf_counter()
    trace = runner.run_sync(code)
    elapsed = time.perf_counter() - started
    size = len(json.dumps(trace, separators=(",", ":")))
    outcome = "ok" if trace["status"] == "ok" else trace["error"]["kind"]
    return elapsed, size, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="program names (file stems) to run")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the sandbox runs one thread; the plain run should too
    programs = [p for p in sorted(CORPUS.glob("*.py")) if not args.only or p.stem in args.only]
    runner = SandboxRunner(Settings(workers=1, queue_size=2))
    runner.start()
    rows = []
    try:
        for path in programs:
            code = path.read_text()
            plains, traces, sizes, outcomes = [], [], [], []
            plain_seconds(code)  # first run pays torch's lazy initialisation (kernels, decompositions): not timed
            for _ in range(args.rounds):
                plains.append(plain_seconds(code))
                t, size, outcome = traced(runner, code)
                traces.append(t)
                sizes.append(size)
                outcomes.append(outcome)
            plain, trace_s = statistics.median(plains), statistics.median(traces)
            rows.append({"program": path.stem, "plain_ms": round(plain * 1000, 1), "trace_ms": round(trace_s * 1000),
                         "ratio": round(trace_s / plain, 1) if plain > 0 else None, "bytes": max(sizes),
                         "outcome": "/".join(sorted(set(outcomes)))})
            print(f"{path.stem}: {rows[-1]}", file=sys.stderr)
    finally:
        runner.close()
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("| program | plain (ms) | traced through the sandbox (ms) | ratio | trace (bytes) | outcome |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['program']} | {r['plain_ms']} | {r['trace_ms']} | {r['ratio']}× | {r['bytes']:,} | {r['outcome']} |")
    ok = [r for r in rows if r["outcome"] == "ok"]
    print(f"\n{len(ok)} of {len(rows)} programs traced; median trace {statistics.median(r['trace_ms'] for r in rows)} ms, "
          f"median size {statistics.median(r['bytes'] for r in rows):,.0f} bytes.")


if __name__ == "__main__":
    main()
