"""Trace bytes on the sin+add chain and the published tutorials: full vs compact as the API returns it, before / after.

    .venv/bin/python bench/compact_bench.py --before /work/main/backend          # writes its section of bench/README.md
    .venv/bin/python bench/compact_bench.py --sizes 100,1000 --no-write

Bytes are the JSON the API answers with (no spaces, UTF-8), plain and gzip -6. "compact" is whatever the tracer's
`format="compact"` means in that checkout (before: version 1, a value table; after: version 2, column tables).
`encode ms` / `expand ms` (after only): turning the sandbox's version 1 trace into version 2 (done by the API server
per request, then cached) and version 2 back into the full form in Python (the page does the same in JS).
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLE = "## Compact trace bytes (before / after)"
sys.path.insert(0, str(ROOT / "bench"))
from chain_bench import TUTORIALS, program, write as write_section  # noqa: E402


def _bytes(t: dict) -> bytes:
    return json.dumps(t, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def worker(backend: str, sizes: list[int], corpus: str) -> list[dict]:
    sys.path.insert(0, backend)
    sys.setrecursionlimit(100_000)
    import torch

    torch.set_num_threads(1)
    from gradtrace.config import Settings
    from gradtrace.tracer import Limits, trace
    from gradtrace.tracer.compact import expand, to_format

    fields = Limits.__dataclass_fields__
    big = Limits(**{k: 10**9 for k in ("max_steps", "max_nodes", "max_backward_steps", "max_trace_bytes") if k in fields})
    versioned = "compact_version" in trace.__code__.co_varnames
    jobs = [(f"{n:,} ops {'unrolled' if u else 'loop'}", n, program(n, u), big) for n in sizes for u in (False, True)]
    jobs += [(name, None, (Path(corpus) / f"{name}.py").read_text(), Limits.from_settings(Settings()))
             for name in TUTORIALS if (Path(corpus) / f"{name}.py").exists()]
    rows = []
    for name, n, code, limits in jobs:
        full = _bytes(trace(code, limits=limits))
        row = {"name": name, "n": n, "full": len(full), "full_gz": len(gzip.compress(full, 6))}
        if versioned:
            v1 = trace(code, limits=limits, format="compact", compact_version=1)
            start = time.process_time()
            v2 = to_format(v1, "compact")  # a new object: v1 is not changed
            row["encode_ms"] = (time.process_time() - start) * 1e3
            compact = _bytes(v2)
            parsed = json.loads(compact)
            start = time.process_time()
            expand(parsed)
            row["expand_ms"] = (time.process_time() - start) * 1e3
            row["v1"] = len(_bytes(v1))
        else:
            compact = _bytes(trace(code, limits=limits, format="compact"))
        row.update(compact=len(compact), compact_gz=len(gzip.compress(compact, 6)))
        rows.append(row)
    return rows


def _run(backend: str, sizes: list[int], corpus: str) -> list[dict]:
    cmd = [sys.executable, __file__, "--worker", backend, "--sizes", ",".join(map(str, sizes)), "--corpus", corpus]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _per(row, key):
    return f"{row[key] / row['n']:.0f}" if row.get("n") else f"{row[key] / 1024:.0f} KB"


def table(after: list[dict], before: list[dict]) -> str:
    old = {r["name"]: r for r in before}
    load = os.getloadavg()[0]
    lines = [TITLE, "", __doc__.split("\n\n", 2)[2].strip(), "",
             f"Chain rows: bytes per op; tutorial rows: KB. Load average {load:.1f} on 2 CPUs while measuring (the ms are "
             "CPU time of one run each, noisy; bytes are exact). Goal (issue 10): ≤ 200 bytes/op, 100 to 10,000 ops.", "",
             "| program | full | compact before | compact after | gzip: full / before / after | encode ms | expand ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in after:
        b = old.get(r["name"], {})
        gz = " / ".join(_per(x, k) if x else "—" for x, k in ((r, "full_gz"), (b, "compact_gz"), (r, "compact_gz")))
        lines.append(f"| {r['name']} | {_per(r, 'full')} | {_per(b, 'compact') if b else '—'} | "
                     f"**{_per(r, 'compact')}** | {gz} | {r.get('encode_ms', 0):.0f} | {r.get('expand_ms', 0):.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--before", help="backend/ folder of the tracer to compare with (e.g. a checkout of main)")
    ap.add_argument("--sizes", default="100,1000,4000,10000")
    ap.add_argument("--corpus", default=str(ROOT / "tests" / "corpus"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.worker:
        print(json.dumps(worker(args.worker, sizes, args.corpus)))
        return
    after = _run(str(ROOT / "backend"), sizes, args.corpus)
    before = _run(args.before, sizes, args.corpus) if args.before else []
    section = table(after, before)
    print(section)
    if not args.no_write:
        write_section(section, TITLE)


if __name__ == "__main__":
    main()
