"""The notebook helper: gradtrace.show(code) and the %%gradtrace cell magic (the browser side is in tests/browser)."""
import html
import json
import re
import subprocess
import sys

import pytest

import gradtrace
from gradtrace.notebook import Animation, load_ipython_extension

CODE = "import torch\nw = torch.randn(3, requires_grad=True)\nloss = (w * w).sum()\nloss.backward()\n"


def srcdoc(markup: str) -> str:
    m = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" style="([^"]*)" title="[^"]*"></iframe>', markup)
    assert m, markup[:200]
    return html.unescape(m.group(1))


def embedded(doc: str) -> dict:
    m = re.search(r'<script type="application/json" id="gradtrace-standalone">(.*?)</script>', doc, re.S)
    return json.loads(m.group(1))


def test_import_gradtrace_stays_light():
    """`import gradtrace` must not import torch (the server and CLI import it); `show` is there on first use."""
    code = "import sys, gradtrace; assert 'torch' not in sys.modules; assert callable(gradtrace.show); " \
           "assert callable(gradtrace.load_ipython_extension); assert 'torch' not in sys.modules; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "ok\n"


def test_show_returns_an_iframe_with_the_whole_trace():
    anim = gradtrace.show(CODE, seed=1, height=420)
    markup = anim._repr_html_()
    assert anim.data == markup  # what IPython.display.HTML keeps in .data
    assert "height:420px" in markup and "<script" not in markup.split("srcdoc=")[0]
    doc = srcdoc(markup)
    assert doc == anim.html and doc.startswith("<!doctype html>")
    data = embedded(doc)
    assert data["code"] == CODE and data["trace"] == anim.trace and data["trace"]["status"] == "ok"
    w = next(t for t in data["trace"]["tensors"] if t["name"] == "w")
    assert w["grad"]["values"] == pytest.approx([2 * v for v in w["data"]["values"]])
    assert repr(anim).startswith("<gradtrace.Animation: ok, 3 autograd nodes, ")


def test_seed_and_options_reach_the_trace():
    a, b = gradtrace.show(CODE, seed=1), gradtrace.show(CODE, seed=2)
    w = lambda anim: next(t for t in anim.trace["tensors"] if t["name"] == "w")["data"]["values"]  # noqa: E731
    assert w(a) != w(b) and w(a) == w(gradtrace.show(CODE, seed=1))
    dark = gradtrace.show(CODE, theme="dark", step="end", title="Squares")
    assert 'data-theme="dark"' in dark.html and embedded(dark.html)["step"] == "end"
    assert "<title>Squares</title>" in dark.html


def test_save_writes_the_standalone_file(tmp_path):
    anim = gradtrace.show(CODE)
    anim.save(tmp_path / "a.html")
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == anim.html


class FakeShell:
    """The one IPython method the extension calls."""

    def __init__(self):
        self.magics = {}

    def register_magic_function(self, func, magic_kind="line", magic_name=None):
        self.magics[(magic_kind, magic_name or func.__name__)] = func


def test_cell_magic_is_registered_and_parses_its_options():
    ip = FakeShell()
    load_ipython_extension(ip)
    magic = ip.magics[("cell", "gradtrace")]
    anim = magic("--seed 1 --height 300 --step end --theme dark --title 'My demo'", CODE)
    assert isinstance(anim, Animation) and anim.height == 300
    assert embedded(anim.html)["step"] == "end" and 'data-theme="dark"' in anim.html and "<title>My demo</title>" in anim.html
    assert anim.trace == gradtrace.show(CODE, seed=1).trace
    assert embedded(magic("--step 2", CODE).html)["step"] == 2
    with pytest.raises(ValueError, match="--seed N"):
        magic("--colour red", CODE)


def test_cell_magic_in_a_real_ipython_shell():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    try:
        ip.run_line_magic("load_ext", "gradtrace")
        anim = ip.run_cell_magic("gradtrace", "--height 320", CODE)
        assert "height:320px" in anim._repr_html_()
        fmt = ip.display_formatter.format(anim)[0]
        assert fmt["text/html"] == anim._repr_html_()  # what Jupyter puts in the cell's output
    finally:
        InteractiveShell.clear_instance()
