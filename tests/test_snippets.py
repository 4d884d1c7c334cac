"""Short links round-trip through SQLite and survive a restart of the app."""
import sqlite3

from fastapi.testclient import TestClient
from sqlalchemy import text

from gradtrace.api.app import create_app
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner
from gradtrace.snippets import SCHEMA_VERSION, SnippetStore, migrate, valid_id

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


def test_ids_are_random_so_nobody_can_test_whether_a_program_is_stored(tmp_path):
    store = SnippetStore(tmp_path / "s.sqlite3")
    ids = {store.put(CODE, 0) for _ in range(20)}
    assert len(ids) == 20 and all(valid_id(i) and len(i) == 12 for i in ids)
    store.close()


def test_schema_1_database_is_migrated_and_its_links_keep_working(tmp_path):
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:  # the table as gradtrace 0.1 made it, with a content-derived id
        conn.execute("CREATE TABLE snippets (id TEXT PRIMARY KEY, code TEXT NOT NULL, seed TEXT NOT NULL, "
                     "created REAL NOT NULL)")
        conn.execute("INSERT INTO snippets VALUES ('k7m2p9qrst', 'x = 1', '5', 1.0)")
    assert migrate(SnippetStore(db).engine) == SCHEMA_VERSION  # migrated on open; a second open finds it current
    with _client(db) as c:
        assert c.get("/api/v1/snippets/k7m2p9qrst").json()["code"] == "x = 1"
        assert c.get("/s/k7m2p9qrst", follow_redirects=False).status_code == 303
        assert c.post("/api/v1/snippets", json={"code": "y = 2"}).status_code == 201


def test_per_client_rate_limit_is_429_with_retry_after(tmp_path):
    app = create_app(Settings(snippet_db=tmp_path / "s.sqlite3", snippet_rate_count=3, snippet_rate_window_s=60),
                     runner=InProcessRunner())
    with TestClient(app) as c:
        assert [c.post("/api/v1/snippets", json={"code": f"x = {i}"}).status_code for i in range(3)] == [201] * 3
        r = c.post("/api/v1/snippets", json={"code": "x = 4"})
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    with TestClient(app, client=("10.0.0.9", 5000)) as other:  # another address is not limited by the first
        assert other.post("/api/v1/snippets", json={"code": "x = 5"}).status_code == 201


def test_total_cap_evicts_the_least_recently_used(tmp_path):
    store = SnippetStore(tmp_path / "s.sqlite3", max_count=3)
    first, second, third = (store.put(f"x = {i}", 0) for i in range(3))
    with store.engine.begin() as conn:  # make `first` recently used, the others old
        conn.execute(text("UPDATE snippets SET last_used = 0 WHERE id != :i"), {"i": first})
        conn.execute(text("UPDATE snippets SET last_used = 1 WHERE id = :i"), {"i": third})
    store.get(first)
    fourth = store.put("x = 4", 0)
    assert store.count() == 3 and store.get(second) is None
    assert all(store.get(i) for i in (first, third, fourth))


def test_snippet_size_cap_is_its_own_setting(tmp_path):
    settings = Settings(snippet_db=tmp_path / "s.db", snippet_max_bytes=50)
    with TestClient(create_app(settings, runner=InProcessRunner())) as c:
        assert c.post("/api/v1/snippets", json={"code": "x" * 51}).status_code == 413
        assert c.post("/api/v1/traces", json={"code": "x = 1  # " + "y" * 60}).status_code == 200


def test_bad_ids_get_404(tmp_path):
    with _client(tmp_path / "s.sqlite3") as c:
        assert c.get("/api/v1/snippets/nope").status_code == 404
        assert c.get("/api/v1/snippets/2345678923").status_code == 404
        r = c.get("/s/<img src=x onerror=alert(1)>")
        assert r.status_code == 404 and "<img" not in r.text and "&lt;img src=x" in r.text


def test_snippet_too_large_is_413(tmp_path):
    with TestClient(create_app(Settings(snippet_db=tmp_path / "s.db", max_code_bytes=10), runner=InProcessRunner())) as c:
        assert c.post("/api/v1/snippets", json={"code": "x" * 11}).status_code == 413
