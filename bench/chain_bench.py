"""Tracer cost on a chain of `sin` + `add` ops: plain exec vs trace vs trace bytes, 100 to 10,000 ops.

    .venv/bin/python bench/chain_bench.py                          # this checkout only
    .venv/bin/python bench/chain_bench.py --before /path/to/old/backend   # side by side with another tracer
    .venv/bin/python bench/chain_bench.py --no-write --sizes 100,1000

Each tracer is measured in its own worker process (one torch thread, as in the sandbox), the workers
alternating so that "before" and "after" see the same machine load. Times are CPU time of the worker
(`time.process_time`): with one thread that is the wall time on an idle machine, and far less disturbed
than wall time when other work shares the cores. Two shapes of the same chain:
`loop` (the ops in a `for` loop, as a student writes it: the tracer folds the loop's forward steps but the
graph and the backward pass still have every node) and `unrolled` (every op on its own line: nothing folds).
torchviz `make_dot` builds its Digraph (no rendering) for the same graph, where it does not crash.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
TITLE = "## Tracer on a sin+add chain (before / after)"


def program(n: int, unrolled: bool) -> str:
    head = "import torch\nx = torch.tensor(0.5, requires_grad=True)\ny = x\n"
    if unrolled:
        return head + "y = torch.sin(y)\ny = y + x\n" * (n // 2) + "y.backward()\n"
    return head + f"for i in range({n // 2}):\n    y = torch.sin(y)\n    y = y + x\ny.backward()\n"


def _compact_kwargs(trace) -> dict:
    """The compact format as the sandbox asks for it (version 1, when the tracer knows versions: the API server encodes
    version 2, so that encoding is not tracer time; bench/compact_bench.py times it)."""
    names = trace.__code__.co_varnames
    kwargs = {"format": "compact"} if "format" in names else {}
    return {**kwargs, "compact_version": 1} if "compact_version" in names else kwargs


def api_bytes(t: dict) -> int:
    """Bytes of the trace as the API answers it: compact traces in the API's compact form, JSON without spaces."""
    if t.get("format") == "compact":
        from gradtrace.tracer.compact import to_format

        t = to_format(t, "compact")
    return len(json.dumps(t, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def worker(backend: str, sizes: list[int], repeat: int) -> list[dict]:
    sys.path.insert(0, backend)
    sys.setrecursionlimit(100_000)
    import torch

    torch.set_num_threads(1)
    from gradtrace.tracer import Limits, trace

    fields = Limits.model_fields
    big = {k: 10**9 for k in ("max_steps", "max_nodes", "max_backward_steps", "max_trace_bytes") if k in fields}
    limits = Limits(**big)
    compact = _compact_kwargs(trace)
    rows = []
    for n in sizes:
        reps = repeat if n <= 1000 else max(1, repeat // 2) if n <= 4000 else 1
        for unrolled in (False, True):
            code = program(n, unrolled)
            compiled = compile(code, "<plain>", "exec")
            plain = _median_time(lambda: exec(compiled, {}), reps + 2)  # noqa: B023 (called at once)
            t = trace(code, limits=limits, **compact)  # warm
            traced = _median_time(lambda: trace(code, limits=limits, **compact), reps)  # noqa: B023 (called at once)
            size = api_bytes(t)
            full = api_bytes(trace(code, limits=limits)) if compact else size
            rows.append({"n": n, "shape": "unrolled" if unrolled else "loop", "plain_ms": plain * 1e3,
                         "trace_ms": traced * 1e3, "bytes": size, "full_bytes": full, "status": t["status"],
                         "error": (t.get("error") or {}).get("message"), "compact": bool(compact),
                         "steps": len(t["forward"]), "nodes": len(t["nodes"])})
    return rows


TUTORIALS = ["tut_polynomial_autograd", "tut_polynomial_custom_function", "tut_polynomial_nn",
             "tut_two_layer_net_custom_function"]


def tutorial_worker(backend: str, corpus: str) -> list[dict]:
    """The four published "Learning PyTorch with Examples" programs, unchanged, with the server's limits."""
    sys.path.insert(0, backend)
    import torch

    torch.set_num_threads(1)
    from gradtrace.config import Settings
    from gradtrace.tracer import Limits, trace

    limits = Limits.from_settings(Settings())
    compact = _compact_kwargs(trace)
    rows = []
    for name in TUTORIALS:
        path = Path(corpus) / f"{name}.py"
        if not path.exists():
            continue
        code = path.read_text(encoding="utf-8")
        compiled = compile(code, "<plain>", "exec")
        start = time.process_time()
        torch.manual_seed(0)
        exec(compiled, {"__name__": "__main__"})
        plain = time.process_time() - start
        start = time.process_time()
        t = trace(code, limits=limits, **compact)
        traced = time.process_time() - start
        size = api_bytes(t)
        full = api_bytes(trace(code, limits=limits)) if compact else size
        rows.append({"name": name, "plain_ms": plain * 1e3, "trace_ms": traced * 1e3, "bytes": size,
                     "full_bytes": full, "status": t["status"], "kind": (t.get("error") or {}).get("kind"),
                     "stdout_lines": t["stdout"].count("\n")})
    return rows


def tutorial_table(after: list[dict], before: list[dict] | None) -> str:
    lines = ["", "The four published \"Learning PyTorch with Examples\" programs, unchanged (`tests/corpus/`), traced "
             "in-process with the server's limits (CPU ms of one run each, one torch thread; the sandbox adds ~30 ms):", "",
             "| program | plain ms | before | after ms | after KB (compact) | after full KB |", "|---|---:|---|---:|---:|---:|"]
    old = {r["name"]: r for r in before or []}
    for r in after:
        b = old.get(r["name"])
        was = f"{b['trace_ms']:.0f} ms, {b['status']}" + (f" ({b['kind']}, {b['bytes'] / 1024:.0f} KB)" if b["kind"] else "") \
            if b else "—"
        lines.append(f"| {r['name']} | {r['plain_ms']:.0f} | {was} | {r['trace_ms']:.0f} | {r['bytes'] / 1024:.0f} | "
                     f"{r['full_bytes'] / 1024:.0f} |")
    return "\n".join(lines) + "\n"


def torchviz_rows(sizes: list[int]) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    try:
        from torchviz import make_dot
    except ImportError:
        return []
    rows = []
    for n in sizes:
        ns: dict = {}
        exec(compile(program(n, False).replace("y.backward()\n", ""), "<plain>", "exec"), ns)
        try:
            ms = _median_time(lambda: make_dot(ns["y"], params={"x": ns["x"]}), 3 if n <= 1000 else 1) * 1e3  # noqa: B023
            rows.append({"n": n, "make_dot_ms": ms, "error": None})
        except RecursionError as exc:
            rows.append({"n": n, "make_dot_ms": None, "error": f"RecursionError: {str(exc)[:60]}"})
    return rows


def _run_worker(backend: str, sizes: list[int], repeat: int, corpus: str | None = None) -> list[dict]:
    cmd = [sys.executable, __file__, "--worker", backend, "--sizes", ",".join(map(str, sizes)), "--repeat", str(repeat)]
    if corpus:
        cmd += ["--corpus", corpus]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(after: list[dict], before: list[dict] | None, viz: list[dict], repeat: int) -> str:
    load = os.getloadavg()
    lines = [
        TITLE, "",
        f"`bench/chain_bench.py`: `trace(code)` of `y = sin(y); y = y + x` repeated to N ops, then `y.backward()`; "
        f"CPU ms (process time), median of {repeat} runs (fewer above 1,000 ops), one torch thread, each tracer in its own process, "
        f"measured alternately in one run on {platform.machine()} with {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average {load[0]:.1f} while measuring (other sessions share the machine, "
        "so compare ratios within a row, not absolute times across runs). `trace` is the compact format; "
        "`full KB` the default format of the same trace. `plain` includes the backward pass.",
        "",
        "| ops | shape | plain ms | before ms | before × | after ms | after × | before KB | after KB (compact) | "
        "bytes/op | after full KB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    old = {(r["n"], r["shape"]): r for r in before or []}
    for r in after:
        b = old.get((r["n"], r["shape"]))
        before_ms = f"{b['trace_ms']:.0f}" if b else "—"
        before_x = f"{b['trace_ms'] / b['plain_ms']:.0f}" if b else "—"
        before_kb = f"{b['bytes'] / 1024:.0f}" if b else "—"
        if b and b["status"] != "ok":
            before_ms += f" ({b['status']})"
        lines.append(f"| {r['n']:,} | {r['shape']} | {r['plain_ms']:.1f} | {before_ms} | {before_x} | "
                     f"{r['trace_ms']:.0f} | {r['trace_ms'] / r['plain_ms']:.1f} | {before_kb} | {r['bytes'] / 1024:.0f} | "
                     f"{r['bytes'] / r['n']:.0f} | {r['full_bytes'] / 1024:.0f} |")
    if viz:
        lines += ["", "torchviz 0.0.3 `make_dot(y)` on the same (loop) graph, building the graphviz Digraph only:", "",
                  "| ops | make_dot ms |", "|---:|---:|"]
        for v in viz:
            lines.append(f"| {v['n']:,} | {v['make_dot_ms']:.0f} |" if v["make_dot_ms"] is not None
                         else f"| {v['n']:,} | fails: {v['error']} |")
    lines.append("")
    return "\n".join(lines)


def write(section: str, title: str = TITLE) -> None:
    """Replace the section of bench/README.md headed `title` (up to the next `## `) by `section`, or append it."""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n\n"
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    README.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--before", help="backend/ folder of the tracer to compare with (e.g. a checkout of main)")
    ap.add_argument("--sizes", default="100,1000,4000,10000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    ap.add_argument("--corpus", default=str(ROOT / "tests" / "corpus"), help="folder with the tutorial programs")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.worker:
        rows = tutorial_worker(args.worker, args.corpus) if "--corpus" in sys.argv else worker(args.worker, sizes, args.repeat)
        print(json.dumps(rows))
        return
    after, before = [], []
    for n in sizes:  # alternate per size so both see the same load
        after += _run_worker(str(ROOT / "backend"), [n], args.repeat)
        if args.before:
            before += _run_worker(args.before, [n], args.repeat)
    section = table(after, before if args.before else None, torchviz_rows(sizes), args.repeat)
    if Path(args.corpus).is_dir():
        tut_after = _run_worker(str(ROOT / "backend"), [], 1, args.corpus)
        tut_before = _run_worker(args.before, [], 1, args.corpus) if args.before else None
        section += tutorial_table(tut_after, tut_before)
    print(section)
    if not args.no_write:
        write(section)


if __name__ == "__main__":
    main()
