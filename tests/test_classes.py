"""Live class sessions through the in-process app: create, follow over SSE, drive, ask, answer, reveal, end, and
every limit (presenter-only driving, join-code guessing, caps on followers, state, prompts and answers)."""
import asyncio
import json
import re

import pytest
from fastapi.testclient import TestClient

from gradtrace.api.app import create_app
from gradtrace.api.door import DoorMiddleware
from gradtrace.classes.codes import ALPHABET, normalize
from gradtrace.config import Settings
from gradtrace.runner import InProcessRunner

from async_helpers import run_async
from class_helpers import Follower
from services.procs import Redis, find

PROGRAM = {"code": "import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n(x * x).sum().backward()\n",
           "seed": 3}


class CountingRunner(InProcessRunner):
    def __init__(self):
        super().__init__()
        self.runs = 0

    async def run(self, code, seed, **options):
        self.runs += 1
        return await super().run(code, seed)


def make(**overrides):
    settings = Settings(class_heartbeat_s=0.2, class_tally_interval_s=0.05, **overrides)
    runner = CountingRunner()
    return TestClient(create_app(settings, runner=runner)), runner


@pytest.fixture(scope="module")
def redis_url():
    if not find("redis-server"):
        pytest.skip("redis-server is not installed")
    server = Redis()
    yield server.url
    server.close()


@pytest.fixture(params=["memory", "redis"])
def app(request):
    """The app with each store: in memory (the default) and a real Redis (replicas), emptied for every test."""
    overrides = {}
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        import redis

        redis.Redis.from_url(url).flushdb()
        overrides["redis_url"] = url
    client, runner = make(**overrides)
    with client:
        client.runner = runner
        yield client


def start(client, step=0, view=None):
    r = client.post("/api/v1/classes", json={"program": PROGRAM, "state": {"step": step, "view": view or {}}})
    assert r.status_code == 201, r.text
    body = r.json()
    return body["code"], {"Authorization": f"Bearer {body['presenter_token']}"}


def test_create_gives_a_short_unambiguous_code_a_link_and_a_token(app):
    r = app.post("/api/v1/classes", json={"program": PROGRAM, "state": {"step": 2, "view": {"iteration": 1}}})
    assert r.status_code == 201
    body = r.json()
    assert re.fullmatch(f"[{ALPHABET}]{{6}}", body["code"]) and not set("0O1IL5S2Z") & set(body["code"])
    assert body["join_url"] == f"/c/{body['code']}" and body["events_url"] == f"/api/v1/classes/{body['code']}/events"
    assert len(body["presenter_token"]) >= 24 and body["expires_in"] == 7200
    view = app.get(f"/api/v1/classes/{body['code'].lower()}").json()  # typed in lower case on a phone
    assert view == {"code": body["code"], "seq": 1, "program": PROGRAM, "trace_key": None,
                    "state": {"step": 2, "view": {"iteration": 1}}, "question": None, "followers": 0, "ended": False}
    assert normalize(" k7p-3qx ") == "K7P3QX" and normalize("K7P3Q0") is None


def test_only_the_presenter_token_drives(app):
    code, auth = start(app)
    put = {"state": {"step": 4, "view": {}}}
    assert app.put(f"/api/v1/classes/{code}/state", json=put).status_code == 403
    assert app.put(f"/api/v1/classes/{code}/state", json=put, headers={"Authorization": "Bearer nope"}).status_code == 403
    other, _ = start(app)  # another session's token does not drive this one
    _, other_auth = start(app)
    assert app.put(f"/api/v1/classes/{code}/state", json=put, headers=other_auth).status_code == 403
    r = app.put(f"/api/v1/classes/{code}/state", json=put, headers=auth)
    assert r.status_code == 200 and r.json() == {"seq": 2}
    assert app.get(f"/api/v1/classes/{code}").json()["state"]["step"] == 4
    assert app.delete(f"/api/v1/classes/{code}").status_code == 403
    assert app.post(f"/api/v1/classes/{code}/questions", json={"step": 1, "prompt": "?", "choices": ["a", "b"],
                                                                "correct": 0}).status_code == 403
    assert app.get(f"/api/v1/classes/{code}").status_code == 200  # nothing a student did ended or changed it


def test_followers_get_the_state_then_every_step_and_are_counted(app):
    code, auth = start(app, step=1)
    students = [Follower(app, code) for _ in range(3)]
    try:
        for s in students:
            assert s.status == 200
            first, eid = s.next("state")
            assert first["state"]["step"] == 1 and eid == "1"
        assert app.get(f"/api/v1/classes/{code}").json()["followers"] == 3
        program = {"code": PROGRAM["code"] + "print(1)\n", "seed": 4}
        key = "0123456789abcdef0123456789abcdef"
        app.put(f"/api/v1/classes/{code}/state", headers=auth,
                json={"program": program, "trace_key": key, "state": {"step": 7, "view": {"open": ["mlp"]}}})
        for s in students:
            got, eid = s.next("state")
            assert (got["state"], got["program"], got["trace_key"], eid) == (
                {"step": 7, "view": {"open": ["mlp"]}}, program, key, "2")
        app.put(f"/api/v1/classes/{code}/state", headers=auth, json={"state": {"step": 8, "view": {}}})
        assert all(s.next("state")[0]["state"]["step"] == 8 for s in students)
        assert app.get(f"/api/v1/classes/{code}").json()["trace_key"] == key  # kept while the program is the same
    finally:
        for s in students:
            s.close()
    assert app.runner.runs == 0  # following never runs a program


def test_resume_with_last_event_id_sends_the_state_only_when_newer(app):
    code, auth = start(app)
    app.put(f"/api/v1/classes/{code}/state", headers=auth, json={"state": {"step": 5, "view": {}}})
    current = Follower(app, code, headers={"Last-Event-ID": "2"})
    behind = Follower(app, code, headers={"Last-Event-ID": "1"})
    forged = Follower(app, code, headers={"Last-Event-ID": "99999999999999999999"})
    try:
        got, eid = behind.next("state")
        assert got["state"]["step"] == 5 and eid == "2"
        assert current.events.get(timeout=5)[0] == "retry"
        assert current.events.get(timeout=5)[0] == "comment"  # a heartbeat, no state: it has seq 2 already
        assert forged.next("state")[1] == "2"  # an id from the future is no reason to skip anything
        app.put(f"/api/v1/classes/{code}/state", headers=auth, json={"state": {"step": 7, "view": {}}})
        assert current.next("state")[1] == "3"
        assert forged.next("state")[0]["state"]["step"] == 7
    finally:
        current.close()
        behind.close()
        forged.close()


def test_question_answers_tally_and_reveal(app):
    code, auth = start(app)
    students = [Follower(app, code) for _ in range(3)]
    try:
        q = {"step": 4, "prompt": "What gradient leaves <b>mul</b>?", "choices": ["2x", "x", "-2x"], "correct": 0}
        r = app.post(f"/api/v1/classes/{code}/questions", json=q, headers=auth)
        assert r.status_code == 201
        qid = r.json()["id"]
        for s in students:
            asked, _ = s.next("question")
            assert asked == {"id": qid, "step": 4, "prompt": q["prompt"], "choices": q["choices"], "revealed": False}
        assert app.get(f"/api/v1/classes/{code}").json()["question"]["id"] == qid
        url = f"/api/v1/classes/{code}/questions/{qid}"
        for follower, choice in (("student-aaaa", 0), ("student-bbbb", 0), ("student-cccc", 2)):
            assert app.post(url + "/answers", json={"choice": choice, "follower": follower}).status_code == 204
        again = app.post(url + "/answers", json={"choice": 1, "follower": "student-cccc"})
        assert again.status_code == 409  # one answer per follower: the second changes nothing
        assert app.get(url + "/tally").json() == {"id": qid, "counts": [2, 0, 1], "total": 3}
        assert app.get(url + "/tally", headers=auth).json()["correct"] == 0
        pushed = None
        while pushed is None or pushed["total"] < 3:
            pushed, _ = students[0].next("tally")
        assert pushed == {"id": qid, "counts": [2, 0, 1], "total": 3}  # counts only: no follower id, no markup
        assert app.post(url + "/reveal").status_code == 403
        assert app.post(url + "/reveal", headers=auth).json() == {"id": qid, "counts": [2, 0, 1], "total": 3,
                                                                   "correct": 0}
        for s in students:
            assert s.next("reveal")[0]["correct"] == 0
        assert app.get(url + "/tally").json()["correct"] == 0
        assert app.post(url + "/answers", json={"choice": 1, "follower": "student-dddd"}).status_code == 409
        assert app.get(f"/api/v1/classes/{code}").json()["question"]["revealed"] is True
    finally:
        for s in students:
            s.close()


def test_bad_answers_and_questions_are_refused_not_500(app):
    code, auth = start(app)
    url = f"/api/v1/classes/{code}/questions"
    assert app.post(url, headers=auth, json={"step": 1, "prompt": "?", "choices": list("abcdefghi"),
                                             "correct": 0}).status_code == 422
    assert app.post(url, headers=auth, json={"step": 1, "prompt": "?", "choices": ["a", "b"], "correct": 2}).status_code == 422
    qid = app.post(url, headers=auth, json={"step": 1, "prompt": "?", "choices": ["a", "b"], "correct": 1}).json()["id"]
    assert app.post(f"{url}/{qid}/answers", json={"choice": 2, "follower": "student-aaaa"}).status_code == 422
    assert app.post(f"{url}/{qid}/answers", json={"choice": 0, "follower": "<img src=x>"}).status_code == 422
    assert app.post(f"{url}/ffffffff/answers", json={"choice": 0, "follower": "student-aaaa"}).status_code == 404
    assert app.post(f"{url}/../answers", json={"choice": 0, "follower": "student-aaaa"}).status_code in (404, 405)
    assert app.put(f"/api/v1/classes/{code}/state", headers=auth, json={"state": {"step": -1}}).status_code == 422
    assert app.put(f"/api/v1/classes/{code}/state", headers=auth,
                   json={"trace_key": "not-a-key", "state": {"step": 1}}).status_code == 422


def test_odd_text_from_the_presenter_is_carried_as_json_text(app):
    code, auth = start(app)
    student = Follower(app, code)
    try:
        student.next("state")
        odd = {"label": "\ud800 lone surrogate", "html": "<img src=x onerror=alert(1)>", "deep": [[[[[]]]]]}
        as_json = {**auth, "Content-Type": "application/json"}  # json.dumps escapes the surrogate as \ud800
        assert app.put(f"/api/v1/classes/{code}/state", headers=as_json,
                       content=json.dumps({"state": {"step": 2, "view": odd}})).status_code == 200
        assert student.next("state")[0]["state"]["view"] == odd
        r = app.post(f"/api/v1/classes/{code}/questions", headers=as_json,
                     content=json.dumps({"step": 2, "prompt": "\ud800?", "choices": ["a", "b"], "correct": 0}))
        assert r.status_code == 422  # refused (a prompt is text), and the refusal itself encodes
        r = app.post(f"/api/v1/classes/{code}/questions", headers=auth,
                     json={"step": 2, "prompt": "<script>alert(1)</script>", "choices": ["é", "<b>"], "correct": 0})
        asked = student.next("question")[0]
        assert r.status_code == 201 and asked["choices"] == ["é", "<b>"] and asked["prompt"].startswith("<script>")
    finally:
        student.close()


def test_a_lone_surrogate_is_a_422_everywhere_never_a_500(app):
    body = json.dumps({"code": "x = '\ud800'"})
    assert app.post("/api/v1/snippets", content=body, headers={"Content-Type": "application/json"}).status_code == 422


def test_end_closes_every_stream_and_the_code(app):
    code, auth = start(app)
    students = [Follower(app, code) for _ in range(3)]
    for s in students:
        s.next("state")
    assert app.delete(f"/api/v1/classes/{code}", headers=auth).status_code == 204
    for s in students:
        assert s.next("end")[0] == {"code": code, "reason": "ended"}
    assert app.get(f"/api/v1/classes/{code}").status_code == 404
    assert app.put(f"/api/v1/classes/{code}/state", headers=auth, json={"state": {"step": 1}}).status_code == 404


def test_an_idle_session_ends_by_itself():
    client, _ = make(class_idle_s=60)
    with client:
        code, _ = start(client)
        student = Follower(client, code)
        student.next("state")
        store = client.app.state.classes.store
        now = store.clock()
        store.clock = lambda: now + 61  # an hour of silence from the presenter, without waiting for it
        assert student.next("end")[0]["code"] == code
        assert client.get(f"/api/v1/classes/{code}").status_code == 404


def test_caps_on_state_prompts_followers_and_answers():
    client, _ = make(class_max_state_bytes=300, class_max_prompt_chars=20, class_max_followers=2, class_answer_count=3)
    with client:
        code, auth = start(client)
        big = {"state": {"step": 1, "view": {"x": "y" * 400}}}
        r = client.put(f"/api/v1/classes/{code}/state", headers=auth, json=big)
        assert r.status_code == 413 and "limit is 300" in r.json()["detail"]
        assert client.post("/api/v1/classes", json={"program": PROGRAM, **big}).status_code == 413
        r = client.post(f"/api/v1/classes/{code}/questions", headers=auth,
                        json={"step": 1, "prompt": "p" * 21, "choices": ["a", "b"], "correct": 0})
        assert r.status_code == 413
        students = [Follower(client, code) for _ in range(2)]
        third = Follower(client, code)
        assert third.status == 429 and "full (2 followers)" in json.loads(third.body)["detail"]
        for s in students:
            s.close()
        qid = client.post(f"/api/v1/classes/{code}/questions", headers=auth,
                          json={"step": 1, "prompt": "p", "choices": ["a", "b"], "correct": 0}).json()["id"]
        url = f"/api/v1/classes/{code}/questions/{qid}/answers"
        codes = [client.post(url, json={"choice": 0, "follower": f"student-{i:04d}"}).status_code for i in range(4)]
        assert codes[:2] == [204, 204] and codes[2] == 429  # the question holds class_max_followers answers
        r = client.post(url, json={"choice": 0, "follower": "student-9999"})
        assert r.status_code == 429 and "too many answers" in r.json()["detail"] and r.headers["Retry-After"]


def test_join_codes_resist_guessing():
    client, _ = make(class_join_misses=3)
    with client:
        code, _ = start(client)
        guesses = [client.get(f"/api/v1/classes/{c}").status_code for c in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD")]
        assert guesses == [404, 404, 404, 429]
        r = client.get(f"/api/v1/classes/{code}")  # once over the limit even a right guess tells nothing
        assert r.status_code == 429 and r.headers["Retry-After"]
        assert client.get(f"/api/v1/classes/{code}/events").status_code == 429


def test_session_creation_is_rate_limited_per_client():
    client, _ = make(class_create_count=2)
    with client:
        start(client)
        start(client)
        r = client.post("/api/v1/classes", json={"program": PROGRAM})
        assert r.status_code == 429 and r.headers["Retry-After"]


def test_followers_reach_the_trace_through_the_cache_with_one_run(app):
    code, auth = start(app)
    made = app.post("/api/v1/traces", json=PROGRAM)
    key = made.headers["X-Trace-Key"]
    app.put(f"/api/v1/classes/{code}/state", headers=auth, json={"program": PROGRAM, "trace_key": key,
                                                                   "state": {"step": 0}})
    for _ in range(30):  # a class opening the lecturer's trace
        view = app.get(f"/api/v1/classes/{code}").json()
        r = app.get(f"/api/v1/traces/{view['trace_key']}")
        assert r.status_code == 200 and r.json()["status"] == "ok"
    assert app.runner.runs == 1


def test_follow_page_is_the_app_flagged_with_the_class(app):
    code, _ = start(app)
    r = app.get(f"/c/{code.lower()}")
    assert r.status_code == 200 and "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
    config = json.loads(re.search(r'id="gradtrace-config">(.*?)</script>', r.text).group(1))
    assert config["class"] == {"code": code, "url": f"/api/v1/classes/{code}",
                               "events": f"/api/v1/classes/{code}/events"}
    assert app.get("/c/<script>").status_code == 404
    embed = app.get(f"/embed?class={code}")
    assert json.loads(re.search(r'id="gradtrace-config">(.*?)</script>', embed.text).group(1))["class"]["code"] == code


def test_openapi_lists_the_class_api(app):
    paths = app.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/classes", "/api/v1/classes/{code}", "/api/v1/classes/{code}/state",
                 "/api/v1/classes/{code}/events", "/api/v1/classes/{code}/questions",
                 "/api/v1/classes/{code}/questions/{qid}/answers", "/api/v1/classes/{code}/questions/{qid}/tally",
                 "/api/v1/classes/{code}/questions/{qid}/reveal"):
        assert path in paths, path


def test_door_passes_the_disconnect_through_after_the_body_deadline():
    """An event stream waits for its client to leave for hours: the body deadline must not fake a body forever."""
    seen = []

    async def app(scope, receive, send):
        seen.append(await receive())
        seen.append(await receive())  # long after body_timeout_s: must be the real disconnect

    async def receive_then_leave():
        if not seen:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(0.2)
        return {"type": "http.disconnect"}

    door = DoorMiddleware(app, Settings(body_timeout_s=0.02))
    run_async(lambda: door({"type": "http", "headers": [], "client": ("1.2.3.4", 5)}, receive_then_leave, None))
    assert [m["type"] for m in seen] == ["http.request", "http.disconnect"]


def test_redis_down_is_a_503_with_retry_after_never_a_500():
    client, _ = make(redis_url="redis://127.0.0.1:9/0")  # nothing listens on the discard port
    with client:
        r = client.post("/api/v1/classes", json={"program": PROGRAM})
        assert r.status_code == 503 and r.headers["Retry-After"] and "unavailable" in r.json()["detail"]
        assert client.get("/api/v1/classes/K7P3QX").status_code == 503
        assert client.get("/api/v1/classes/K7P3QX/events").status_code == 503
        assert client.get("/").status_code == 200  # the page is served, without a seat
