"""Exports: the standalone HTML document (one file, data inline and escaped), the SVG of the graph, the CLI."""
import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gradtrace.config import get_settings
from gradtrace.examples import example
from gradtrace.export import ExportError, standalone_html, trace_program
from gradtrace.export.standalone import default_title
from gradtrace.export.svg import find_chromium

GRADTRACE = [sys.executable, "-m", "gradtrace.cli"]
REPO = Path(__file__).resolve().parents[1]
SVG_NS = "{http://www.w3.org/2000/svg}"
HOSTILE = 'import torch\ns = "</script><script>alert(1)</script><!-- </style> \u2028 & é"\n' \
          'x = torch.tensor([1., 2.], requires_grad=True)\n(x * x).sum().backward()\n'


class Parts(HTMLParser):
    """What a browser would see: elements, their attributes, and the text of each <script>/<style>."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.styles, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = (tag, dict(attrs))
            (self.scripts if tag == "script" else self.styles).append([dict(attrs), ""])

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            (self.scripts if self._in[0] == "script" else self.styles)[-1][1] += data


def parse(doc: str) -> Parts:
    p = Parts()
    p.feed(doc)
    return p


def embedded(doc: str) -> dict:
    return json.loads(next(text for attrs, text in parse(doc).scripts if attrs.get("id") == "gradtrace-standalone"))


@pytest.fixture(scope="module")
def basic():
    code = example("basic-mul")["code"]
    return trace_program(code), code


def test_standalone_is_one_file_with_the_trace_inline(basic):
    trace, code = basic
    doc = standalone_html(trace, code)
    p = parse(doc)
    # Nothing refers outside the file: no src/href/link/iframe/img, one inline player script, one style.
    assert not [t for t, a in p.tags if "src" in a or "href" in a or t in ("link", "iframe", "img", "base")]
    assert [a.get("type") for a, _ in p.scripts] == ["application/json", None]
    assert len(p.styles) == 1 and ".node.tensor.leaf" in p.styles[0][1]
    csp = next(a["content"] for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "connect-src" not in csp
    assert embedded(doc) == {"trace": trace, "code": code, "title": "Autograd, step by step", "step": None}
    assert 'id="narration" aria-live="polite"' in doc
    for label in ("Play", "Pause", "Step forward", "Step back", "Reset"):
        assert f'aria-label="{label}"' in doc


def test_program_text_cannot_break_out_of_the_document():
    trace = trace_program(HOSTILE)
    assert trace["status"] == "ok"
    doc = standalone_html(trace, HOSTILE, title="</title><script>alert(2)</script>")
    p = parse(doc)
    assert len(p.scripts) == 2 and len(p.styles) == 1  # no element was opened by the program's text
    assert embedded(doc)["code"] == HOSTILE
    assert "<title>&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;</title>" in doc
    assert "</script><script>alert(1)" not in doc


def test_options_are_checked(basic):
    trace, code = basic
    assert 'data-theme="dark"' in standalone_html(trace, code, theme="dark")
    assert embedded(standalone_html(trace, code, step="end"))["step"] == "end"
    assert embedded(standalone_html(trace, code, step=3, title="T"))["step"] == 3
    for bad in ({"theme": "blue"}, {"step": -1}, {"step": "middle"}, {"step": 2.5}):
        with pytest.raises(ExportError):
            standalone_html(trace, code, **bad)


def test_default_title():
    assert default_title("# title: Chain rule\nimport torch\n") == "Chain rule"
    assert default_title("import torch\n") == "Autograd, step by step"


def test_committed_bundle_is_built_from_the_current_sources():
    """frontend/static/dist/ is rebuilt by `npm run build`; a page change without a rebuild fails here."""
    dist = Path(get_settings().frontend_dir) / "static" / "dist"
    recorded = json.loads((dist / "standalone.inputs.json").read_text())["inputs"]
    assert "frontend/static/js/view/graph-view.js" in recorded and "frontend/static/js/model/timeline.js" in recorded
    stale = [f for f, h in recorded.items() if hashlib.sha256((REPO / f).read_bytes()).hexdigest() != h]
    assert not stale, f"standalone bundle is older than {stale}: run `npm run build` and commit frontend/static/dist/"


def run_cli(*args, env=None):
    return subprocess.run(GRADTRACE + list(args), capture_output=True, text=True, env=env, timeout=300)


def test_cli_export_html(tmp_path: Path):
    prog = tmp_path / "prog.py"
    prog.write_text("import torch\nw = torch.tensor([2., 3.], requires_grad=True)\n(w ** 2).sum().backward()\n")
    out = tmp_path / "out.html"
    res = run_cli("export", str(prog), "-o", str(out), "--seed", "3", "--step", "end", "--theme", "dark")
    assert res.returncode == 0, res.stderr
    assert "wrote" in res.stderr and "steps" in res.stderr
    doc = out.read_text()
    data = embedded(doc)
    assert data["title"] == "prog.py" and data["step"] == "end" and 'data-theme="dark"' in doc
    w = next(t for t in data["trace"]["tensors"] if t["name"] == "w")
    assert w["grad"]["values"] == [4.0, 6.0]


def test_cli_export_reports_a_failing_program(tmp_path: Path):
    prog = tmp_path / "bad.py"
    prog.write_text("import torch\nx = torch.ones(2)\nx.backward()\n")
    out = tmp_path / "bad.html"
    res = run_cli("export", "--check", str(prog), "-o", str(out))
    assert res.returncode == 1 and "line 3" in res.stderr
    assert embedded(out.read_text())["trace"]["error"]["type"] == "RuntimeError"  # still written: it shows the error


def test_cli_export_usage_errors(tmp_path: Path):
    prog = tmp_path / "p.py"
    prog.write_text("import torch\n")
    assert "name it .html or .svg" in run_cli("export", str(prog), "-o", str(tmp_path / "x.png")).stderr
    assert run_cli("export", str(tmp_path / "missing.py"), "-o", str(tmp_path / "x.html")).returncode == 2
    assert "'end'" in run_cli("export", str(prog), "-o", "x.html", "--step", "soon").stderr
    help_text = run_cli("export", "--help").stdout
    for words in ("--seed", "--step", "--theme", ".svg", "offline"):
        assert words in help_text
    assert "export" in run_cli("--help").stdout


def test_cli_svg_without_a_browser_says_what_to_install(tmp_path: Path):
    prog = tmp_path / "p.py"
    prog.write_text("import torch\nx = torch.ones(2, requires_grad=True)\nx.sum().backward()\n")
    env = {**os.environ, "GRADTRACE_CHROMIUM": str(tmp_path / "no-such-chromium")}
    res = run_cli("export", str(prog), "-o", str(tmp_path / "g.svg"), env=env)
    assert res.returncode == 1 and "Chromium" in res.stderr and "html export needs neither" in res.stderr
    assert not (tmp_path / "g.svg").exists()


def svg_ids(root: ET.Element, attr: str) -> set[str]:
    return {el.get(attr) for el in root.iter() if el.get(attr) is not None}


@pytest.mark.browser
@pytest.mark.parametrize("ex_id", ["basic-mul", "mlp-training-step"])
def test_cli_export_svg_is_valid_xml_with_every_node(tmp_path: Path, ex_id):
    if not find_chromium():
        pytest.skip("no Chromium on this machine")
    prog = tmp_path / "prog.py"
    prog.write_text(example(ex_id)["code"])
    out = tmp_path / "graph.svg"
    res = run_cli("export", str(prog), "-o", str(out))
    assert res.returncode == 0, res.stderr
    root = ET.parse(out).getroot()  # well-formed XML
    assert root.tag == f"{SVG_NS}svg" and root.get("viewBox") and root.get("width")
    trace = trace_program(prog.read_text())
    assert svg_ids(root, "data-node-id") == {n["id"] for n in trace["nodes"]}
    assert svg_ids(root, "data-tensor-id") == {t["id"] for t in trace["tensors"]}
    # Self-contained: styles resolved into attributes, no scripts, links only to its own markers.
    assert not [el for el in root.iter() if el.tag in (f"{SVG_NS}script", f"{SVG_NS}style", f"{SVG_NS}foreignObject")]
    refs = {v for el in root.iter() for k, v in el.attrib.items() if "url(" in v or k.endswith("href")}
    assert refs <= {"url(#gt-arrow)", "url(#gt-arrow-flow)"}
    leaf = next(el for el in root.iter() if {"node", "tensor", "leaf"} <= set(el.get("class", "").split()))  # (+ zoom state: fits)
    assert leaf.find(f"{SVG_NS}rect").get("stroke", "").startswith("rgb(")
    # The end state: every leaf's final .grad is written on it.
    for t in trace["tensors"]:
        if t["is_leaf"] and t["grad"] is not None and t["grad"]["values"] is not None and len(t["shape"]) <= 1:
            el = next(e for e in root.iter() if e.get("data-tensor-id") == t["id"])
            assert json.loads(el.get("data-grad")) == pytest.approx(t["grad"]["values"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{ex_id}.svg").write_text(out.read_text())


ARTIFACTS = REPO / "test-artifacts" / "export"
