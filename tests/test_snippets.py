"""Short links round-trip through SQLite and survive a restart of the app."""
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner
from gradtrace.snippets import SnippetStore, valid_id

CODE = "import torch\nx = torch.ones(2, requires_grad=True)\n(x * 3).sum().backward()\n# ünïcode ✓\n"


def _client(db):
    return TestClient(create_app(Settings(snippet_db=db), runner=InProcessRunner()))


def test_snippet_survives_restart(tmp_path):
    db = tmp_path / "s.sqlite3"
    with _client(db) as c:
        r = c.post("/api/v1/snippets", json={"code": CODE, "seed": 2**64 - 1})
        assert r.status_code == 201
        sid = r.json()["id"]
        assert valid_id(sid) and r.json()["url"] == f"/s/{sid}"
    with _client(db) as c:  # a new app, the same file
        got = c.get(f"/api/v1/snippets/{sid}").json()
        assert got["code"] == CODE and got["seed"] == 2**64 - 1
        page = c.get(f"/s/{sid}", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == f"/?s={sid}"


def test_same_program_same_id_other_seed_other_id(tmp_path):
    store = SnippetStore(tmp_path / "s.sqlite3")
    assert store.put(CODE, 0) == store.put(CODE, 0)
    assert store.put(CODE, 0) != store.put(CODE, 1)
    store.close()


def test_bad_ids_get_404(tmp_path):
    with _client(tmp_path / "s.sqlite3") as c:
        assert c.get("/api/v1/snippets/nope").status_code == 404
        assert c.get("/api/v1/snippets/2345678923").status_code == 404
        r = c.get("/s/<img src=x onerror=alert(1)>")
        assert r.status_code == 404 and "<img" not in r.text and "&lt;img src=x" in r.text


def test_snippet_too_large_is_413(tmp_path):
    with TestClient(create_app(Settings(snippet_db=tmp_path / "s.db", max_code_bytes=10), runner=InProcessRunner())) as c:
        assert c.post("/api/v1/snippets", json={"code": "x" * 11}).status_code == 413
