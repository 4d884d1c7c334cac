"""The app's lifespan is the one place its services are made and closed; a runner passed in stays the caller's."""
from fastapi.testclient import TestClient

from gradtrace.api import app as app_module
from gradtrace.api.app import create_app
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner

PROGRAM = "import torch\nx = torch.ones(2, requires_grad=True)\nx.sum().backward()\n"


class Closing(InProcessRunner):
    def __init__(self):
        super().__init__()
        self.closed = 0

    def close(self):
        self.closed += 1


def test_the_lifespan_makes_the_trace_cache_and_the_class_hub_and_leaves_a_given_runner_open():
    runner = Closing()
    app = create_app(Settings(), runner=runner)
    assert not hasattr(app.state, "traces") and not hasattr(app.state, "classes")  # nothing made before it starts
    with TestClient(app) as client:
        assert client.post("/api/v1/traces", json={"code": PROGRAM}).status_code == 200
        health = client.get("/api/v1/health").json()
        assert health["status"] == "ok" and health["cache"] == client.app.state.traces.stats()
        assert client.post("/api/v1/classes", json={"program": {"code": PROGRAM}}).status_code == 201
    assert runner.closed == 0  # the caller's to close


def test_the_runner_the_lifespan_makes_is_the_one_it_closes(monkeypatch):
    made = []
    monkeypatch.setattr(app_module, "default_runner", lambda settings: made.append(Closing()) or made[-1])
    with TestClient(create_app(Settings())) as client:
        assert client.get("/api/v1/health").status_code == 200
        assert made and made[0].closed == 0
    assert [r.closed for r in made] == [1]


def test_the_lifespan_starts_the_check_pools_processes_and_closing_ends_them():
    app = create_app(Settings(check_workers=2), runner=Closing())
    with TestClient(app) as client:
        pool = client.app.state.traces.pool
        procs = list(pool._procs)
        assert len(procs) == 2 and all(p.alive for p in procs)  # before any run: started with the app
        assert client.post("/api/v1/traces", json={"code": PROGRAM, "seed": 5}).json()["status"] == "ok"
        assert pool._procs == procs and pool.tasks == 1  # the run was checked by one of them, none restarted
    for p in procs:
        assert p.proc.wait(timeout=10) is not None  # gone with the app
