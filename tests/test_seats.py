"""A hall behind one address: seats (signed cookies) tell its students apart, so each gets a share of runs, one
abuser gets one student's share, the hall together gets one address's share, and a forged seat is ignored."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.seats import COOKIE, Seats
from gradtrace.config import Settings
from gradtrace.runner import Admission, ClientBusy, InProcessRunner, Saturated, current_client
from gradtrace.sandbox import SandboxRunner

PROGRAM = "import torch\nx = torch.tensor([{}.0], requires_grad=True)\n(x * x).sum().backward()\n"


def test_admission_shares():
    adm = Admission(per_client=4, per_seat=2, per_address=5)
    assert [adm.admit("10.0.0.1") for _ in range(5)] == [True] * 4 + [False]  # no seat: the address's own share
    adm.release("10.0.0.1")
    assert [adm.admit("10.0.0.1#abuser") for _ in range(3)] == [True, True, False]  # 2 per seat
    assert adm.admit("10.0.0.1#student") is False  # the hall (address) holds its 5: 3 seatless + 2
    assert adm.admit("10.0.0.2#other") and adm.admit("10.0.0.2")  # another address is untouched
    for _ in range(3):
        adm.release("10.0.0.1")
    assert not adm.admit("10.0.0.1#abuser")  # still 2 running
    assert adm.admit("10.0.0.1#student") and adm.admit("10.0.0.1#student2") and adm.admit("10.0.0.1#student3")
    assert not adm.admit("10.0.0.1#student4")
    assert adm.admit(None)  # nobody to tell apart (CLI, tests)


def test_seat_cookie_is_signed_issued_once_and_limited_per_address():
    client = TestClient(create_app(Settings(seat_count=2), runner=InProcessRunner()))
    with client:
        r = client.get("/")
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(COOKIE + "=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "set-cookie" not in client.get("/embed").headers  # the browser has its seat now
        value = client.cookies[COOKIE]
        seats: Seats = client.app.state.seats
        assert seats.verify(value) == value.split(".")[0]
        assert seats.verify(value.split(".")[0] + ".forged") is None and seats.verify("x" * 100) is None
        client.cookies.clear()
        assert "set-cookie" in client.get("/").headers  # second seat for this address
        client.cookies.clear()
        assert "set-cookie" not in client.get("/").headers  # seat_count reached: served, without a seat


def test_runs_are_counted_against_the_seat_and_a_forged_one_against_the_address():
    seen = []

    class Recording(InProcessRunner):
        async def run(self, code, seed, **options):
            seen.append(current_client())
            return await super().run(code, seed)

    client = TestClient(create_app(Settings(), runner=Recording()))
    with client:
        client.get("/")
        seat = client.cookies[COOKIE].split(".")[0]
        assert client.post("/api/v1/traces", json={"code": PROGRAM.format(1)}).status_code == 200
        client.cookies.set(COOKIE, "deadbeefdeadbeef.AAAAAAAAAAAAAAAAAAAAAA")
        assert client.post("/api/v1/traces", json={"code": PROGRAM.format(2)}).status_code == 200
    assert seen == [f"testclient#{seat}", "testclient"]


def _run(coro):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def pool():
    runner = SandboxRunner(Settings(workers=1, queue_size=30, max_runs_per_seat=2, max_runs_per_address=8))
    runner.start()
    yield runner
    runner.close()


def test_a_hall_behind_one_address_each_student_runs_and_one_abuser_gets_one_seat(pool):
    """The real sandbox: an abuser firing 6 programs at once gets 2 in; 6 classmates (same address) all get in
    beside it; the address's share then refuses more, and another address still gets in."""
    async def main():
        def run(i, client):
            return asyncio.ensure_future(pool.run(PROGRAM.format(i), 0, client))

        abuser = [run(i, "10.1.1.1#abuser") for i in range(6)]
        students = [run(10 + i, f"10.1.1.1#student{i}") for i in range(6)]
        late = run(20, "10.1.1.1#late")
        other = run(21, "10.2.2.2")
        results = await asyncio.gather(*abuser, *students, late, other, return_exceptions=True)
        return results[:6], results[6:12], results[12], results[13]

    abuser, students, late, other = _run(main())
    assert sum(isinstance(r, dict) for r in abuser) == 2 and sum(isinstance(r, ClientBusy) for r in abuser) == 4
    assert all(isinstance(r, dict) and r["status"] == "ok" for r in students), students
    assert isinstance(late, ClientBusy)  # the hall holds its 8
    assert isinstance(other, dict) and other["status"] == "ok"
    assert not any(type(r) is Saturated for r in [*abuser, *students, late, other])  # the queue itself had room
