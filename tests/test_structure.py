"""The codebase keeps its shape: no product file past 400 lines, and no import cycle in the page model
(frontend/tests/structure.test.js lists cycles; this runs it so `pytest` alone also tells)."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def product_files() -> list[Path]:
    files = list((ROOT / "backend" / "gradtrace").rglob("*.py"))
    static = ROOT / "frontend" / "static"
    for pattern in ("*.js", "*.css"):
        files += [p for p in static.rglob(pattern) if not {"vendor", "dist"} & set(p.relative_to(static).parts)]
    files += list((ROOT / "frontend" / "templates").glob("*.html"))
    return files


def long_files(files: list[Path], root: Path = ROOT, limit: int = MAX_LINES) -> list[str]:
    out = []
    for p in files:
        n = len(p.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append(f"{p.relative_to(root)}: {n} lines")
    return out


def test_the_line_counter_finds_a_long_file(tmp_path):
    long = tmp_path / "long.py"
    long.write_text("x = 1\n" * (MAX_LINES + 1))
    short = tmp_path / "short.py"
    short.write_text("x = 1\n" * MAX_LINES)
    assert long_files([long, short], root=tmp_path) == [f"long.py: {MAX_LINES + 1} lines"]


def test_no_product_file_is_past_400_lines():
    files = product_files()
    assert len(files) > 100, "the product's files were not found"
    assert long_files(files) == []


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_the_page_model_has_no_import_cycle():
    r = subprocess.run(["node", "--test", str(ROOT / "frontend" / "tests" / "structure.test.js")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
