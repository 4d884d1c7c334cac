"""One self-contained HTML file: the trace, the program, the player's script and style, all inline."""
import json
import re
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .. import __version__

THEMES = ("light", "dark")
# In a <script>/<style> element only these sequences could end the element or open a comment early.
_END_SCRIPT = re.compile(r"<(/script|!--)", re.IGNORECASE)
_END_STYLE = re.compile(r"</(style)", re.IGNORECASE)


class ExportError(RuntimeError):
    """An export could not be made (missing bundle or browser, bad option); the message says what to do."""


def _frontend() -> Path:
    from ..config import get_settings

    return Path(get_settings().frontend_dir)


@lru_cache(maxsize=2)
def _assets(folder: Path) -> tuple[str, str]:
    dist = folder / "static" / "dist"
    try:
        js = (dist / "standalone.js").read_text(encoding="utf-8")
        css = (dist / "standalone.css").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ExportError(f"the standalone player bundle is missing ({exc.filename}); rebuild it with "
                          "`npm ci && npm run build` in the repository") from None
    return _END_SCRIPT.sub(lambda m: "<\\" + m.group(1), js), _END_STYLE.sub(r"<\\/\1", css)


@lru_cache(maxsize=2)
def _template(folder: Path):
    env = Environment(loader=FileSystemLoader(str(folder / "templates")), autoescape=select_autoescape(["html"]))
    return env.get_template("standalone.html")


def script_json(value) -> str:
    """JSON safe inside a <script> element: <, >, & and the JS line separators as \\u escapes."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def default_title(code: str) -> str:
    """The program's `# title: …` header (as in the gallery), else a plain name."""
    for line in code.splitlines()[:5]:
        m = re.match(r"#\s*title:\s*(.+)", line.strip())
        if m:
            return m.group(1).strip()
    return "Autograd, step by step"


def check_step(step):
    if step is None or step == "end":
        return step
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ExportError(f"step must be a step number (0 or more), 'end' or None, not {step!r}")
    return step


def standalone_html(trace: dict, code: str, *, title: str | None = None, theme: str = "light", step=None) -> str:
    """The whole animation of `trace` (of program `code`) as one HTML document that needs no server.

    `step`: where playback starts: None (the beginning, or the end of a failed run), a step number, or "end".
    """
    if theme not in THEMES:
        raise ExportError(f"theme must be one of {', '.join(THEMES)}, not {theme!r}")
    folder = _frontend()
    js, css = _assets(folder)
    title = title or default_title(code)
    data = {"trace": trace, "code": code, "title": title, "step": check_step(step)}
    return _template(folder).render(
        title=title, theme=theme, version=__version__,
        css=Markup(css), js=Markup(js), data=Markup(script_json(data)),
    )


def trace_program(code: str, seed: int = 0) -> dict:
    """Trace `code` in this process (the caller's own program), with the configured limits."""
    from ..config import get_settings
    from ..tracer import Limits, trace

    return trace(code, seed=seed, limits=Limits.from_settings(get_settings()))
