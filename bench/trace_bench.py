"""How long an in-process trace of each gallery example takes (warm, median of N runs).

    .venv/bin/python bench/trace_bench.py            # prints the table and rewrites bench/README.md's section
    .venv/bin/python bench/trace_bench.py --repeat 50 --no-write

Only the tracer is timed: no HTTP, no worker process, no sandbox.
"""
import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "backend"))

import torch  # noqa: E402

from gradtrace.examples import examples  # noqa: E402
from gradtrace.tracer import trace  # noqa: E402

README = ROOT / "bench" / "README.md"
TITLE = "## Tracer (in-process)"


def measure(repeat: int) -> list[dict]:
    rows = []
    for ex in examples():
        trace(ex["code"], seed=0)  # warm: imports, first-call caches
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            t = trace(ex["code"], seed=0)
            times.append(time.perf_counter() - start)
        rows.append({
            "id": ex["id"], "median_ms": 1000 * statistics.median(times), "max_ms": 1000 * max(times),
            "steps": len(t["forward"]), "nodes": len(t["nodes"]),
            "backward_steps": sum(len(p["steps"]) for p in t["backward"]),
            "kb": len(json.dumps(t)) / 1024, "status": t["status"],
        })
    return rows


def table(rows: list[dict], repeat: int) -> str:
    lines = [
        TITLE, "",
        f"`bench/trace_bench.py`: `gradtrace.tracer.trace(code, seed=0)` on each gallery example, warm, "
        f"median of {repeat} runs in one process (no HTTP, no worker process, no sandbox). "
        f"Measured on {platform.machine()} with {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads.",
        "",
        "| example | median ms | max ms | forward steps | nodes | backward steps | trace KB | status |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['id']} | {r['median_ms']:.1f} | {r['max_ms']:.1f} | {r['steps']} | {r['nodes']} | "
                     f"{r['backward_steps']} | {r['kb']:.1f} | {r['status']} |")
    med = statistics.median(r["median_ms"] for r in rows)
    worst = max(rows, key=lambda r: r["median_ms"])
    lines += ["", f"Median over the gallery: {med:.1f} ms; slowest: {worst['id']} ({worst['median_ms']:.1f} ms).", ""]
    return "\n".join(lines)


def write(section: str) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(TITLE)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    README.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = ap.parse_args()
    section = table(measure(args.repeat), args.repeat)
    print(section)
    if not args.no_write:
        write(section)


if __name__ == "__main__":
    main()
