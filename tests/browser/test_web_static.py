"""The page's HTTP side (no browser): `/` with its security headers, static files, no inline script."""
import re

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.runner import InProcessRunner


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(runner=InProcessRunner())) as c:
        yield c


def test_page_has_strict_csp_and_no_inline_script(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert nonce in r.text  # handed to CodeMirror through the JSON config
    assert client.get("/").headers["content-security-policy"] != csp  # a fresh nonce per response
    for tag in re.findall(r"<script\b[^>]*>", r.text):
        assert 'type="application/json"' in tag or "src=" in tag, tag
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in r.text and "https://" not in r.text  # nothing from other hosts


@pytest.mark.parametrize("path, kind", [("/static/js/main.js", "text/javascript"),
                                        ("/static/vendor/d3.js", "text/javascript"),
                                        ("/static/vendor/codemirror.js", "text/javascript"),
                                        ("/static/css/app.css", "text/css"),
                                        ("/static/img/icon.svg", "image/svg+xml")])
def test_static_files(client, path, kind):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-cache"
    again = client.get(path, headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["x-content-type-options"] == "nosniff"
    assert client.post(path).status_code == 405


@pytest.mark.parametrize("path", ["/static/../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
                                  "/static/nope.js", "/static/"])
def test_static_refuses_escapes_and_unknown_files(client, path):
    assert client.get(path).status_code == 404


def test_vendored_libraries_carry_licenses():
    from gradtrace.config import get_settings

    vendor = get_settings().frontend_dir / "static" / "vendor"
    versions = (vendor / "VERSIONS.txt").read_text()
    for lib in ("d3@7", "@dagrejs/dagre@", "codemirror@6"):
        assert lib in versions
    assert (vendor / "LICENSE.d3.txt").exists() and (vendor / "LICENSE.dagrejs-dagre.txt").exists()
