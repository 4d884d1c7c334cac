"""/docs, /openapi.json and the snippet-not-found page carry a CSP and X-Frame-Options like every page but /embed
(issue 19: they sent neither, so another site could frame them)."""
import re

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("snip") / "s.sqlite3"
    with TestClient(create_app(Settings(snippet_db=db), runner=InProcessRunner())) as c:
        yield c


@pytest.mark.parametrize("path,status", [("/docs", 200), ("/openapi.json", 200), ("/s/no-such-snippet", 404)])
def test_every_served_page_refuses_foreign_framing(client, path, status):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == status
    csp = r.headers["content-security-policy"]
    ancestors = re.search(r"frame-ancestors ([^;]*)", csp).group(1).strip()
    assert ancestors in ("'self'", "'none'") and r.headers["x-frame-options"] in ("SAMEORIGIN", "DENY")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" not in csp and "*" not in csp


@pytest.mark.parametrize("path", ["/docs", "/s/no-such-snippet"])
def test_inline_scripts_and_styles_carry_the_responses_nonce(client, path):
    r = client.get(path)
    nonce = re.search(r"'nonce-([^']+)'", r.headers["content-security-policy"]).group(1)
    inline = re.findall(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", r.text)
    assert inline and all(f'nonce="{nonce}"' in attrs for _, attrs in inline)


def test_the_docs_still_point_at_the_spec(client):
    assert "url: '/openapi.json'" in client.get("/docs").text
    assert client.get("/openapi.json").json()["info"]["title"] == "gradtrace"
