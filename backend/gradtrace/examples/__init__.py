"""The gallery: example programs shipped with gradtrace, one `NN_id.py` file each.

Each file starts with `# title: …` and `# description: …` lines; the rest is the program.
"""
from functools import lru_cache
from pathlib import Path

_DIR = Path(__file__).parent


def _parse(path: Path) -> dict:
    meta, body = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not body and line.startswith("# ") and ":" in line and line[2:].split(":", 1)[0] in ("title", "description"):
            key, value = line[2:].split(":", 1)
            meta[key] = (meta.get(key, "") + " " + value.strip()).strip()
        else:
            body.append(line)
    while body and not body[0].strip():
        body.pop(0)
    ex_id = path.stem.split("_", 1)[1] if "_" in path.stem else path.stem
    return {"id": ex_id.replace("_", "-"), "title": meta.get("title", ex_id), "description": meta.get("description", ""),
            "code": "\n".join(body).rstrip() + "\n"}


@lru_cache
def examples() -> tuple[dict, ...]:
    """All gallery examples, in file order."""
    return tuple(_parse(p) for p in sorted(_DIR.glob("[0-9][0-9]_*.py")))


def example(ex_id: str) -> dict | None:
    return next((e for e in examples() if e["id"] == ex_id), None)
