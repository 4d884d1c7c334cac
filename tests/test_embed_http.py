"""HTTP side of sharing (no browser): framing rules of `/` and `/embed`, and POST /api/v1/export/html."""
import re

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.runner import InProcessRunner

PROGRAM = "# title: Two times three\nimport torch\na = torch.tensor(2., requires_grad=True)\nb = a * 3\nb.backward()\n"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(runner=InProcessRunner())) as c:
        yield c


def directives(csp: str) -> dict:
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}


def test_main_page_may_only_be_framed_by_itself(client):
    r = client.get("/")
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'self'"]
    assert r.headers["x-frame-options"] == "SAMEORIGIN"


def test_embed_may_be_framed_anywhere_and_keeps_the_strict_script_policy(client):
    r = client.get("/embed")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["*", "file:", "data:", "blob:"]  # '*' alone would refuse slides opened from file://
    assert csp["script-src"] == ["'self'"] and "unsafe-inline" not in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers
    for tag in re.findall(r"<script\b[^>]*>", r.text):
        assert 'type="application/json"' in tag or "src=" in tag, tag
    assert 'id="editor"' not in r.text and 'id="graph"' in r.text and 'id="narration"' in r.text


def test_export_html_is_the_standalone_file_as_an_attachment(client):
    r = client.post("/api/v1/export/html", json={"code": PROGRAM, "seed": 0, "step": 2, "theme": "dark"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-disposition"] == 'attachment; filename="gradtrace-two-times-three.html"'
    assert r.headers["content-security-policy"].startswith("sandbox")
    html = r.text
    assert html.startswith("<!doctype html>") and 'data-theme="dark"' in html
    assert "<title>Two times three</title>" in html and '"step":2' in html and "MulBackward0" in html
    assert "<script src=" not in html  # one file: every script inline


def test_export_html_of_a_failing_program_still_exports(client):
    r = client.post("/api/v1/export/html", json={"code": "import torch\nraise ValueError('nope')\n", "title": "Oops <b>"})
    assert r.status_code == 200
    assert 'filename="gradtrace-oops-b.html"' in r.headers["content-disposition"]
    assert "<title>Oops &lt;b&gt;</title>" in r.text and "nope" in r.text


@pytest.mark.parametrize("body", [{}, {"code": 1}, {"code": "x", "theme": "neon"}, {"code": "x", "step": -1}, {"code": "x", "step": 1.5},
                                  {"code": "x", "step": "start"}, {"code": "x", "title": "t" * 201}])
def test_export_html_malformed_is_422(client, body):
    assert client.post("/api/v1/export/html", json=body).status_code == 422


def test_export_html_too_long_is_413(client):
    assert client.post("/api/v1/export/html", json={"code": "#" * 30_000}).status_code == 413
