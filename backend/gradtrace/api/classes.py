"""Live class sessions: create, follow (Server-Sent Events), drive, ask, answer, tally, reveal, end.

The contract is docs/class-api.md. Only the presenter token drives; join-code misses, creations and answers are
rate-limited per client address; followers, state size and answers per question are capped (413/429).
"""
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response

from ..cache import valid_key
from ..classes import Hub
from ..classes.codes import new_code, new_question_id, new_token, normalize, token_hash, token_matches, valid_question_id
from ..classes.hub import Full, frame, public_question, public_view, tally_view
from ..classes.sse import EventStreamResponse
from ..config import Settings
from .class_models import (AnswerIn, ClassCreated, ClassIn, ClassView, QuestionId, QuestionIn, Seq, StateIn, Tally)
from .clients import client_key
from .deps import SettingsDep, ensure_code_fits

router = APIRouter(prefix="/api/v1/classes", tags=["classes"])


async def get_hub(request: Request) -> Hub:
    """The app's hub (made and started by the lifespan)."""
    return request.app.state.classes


HubDep = Annotated[Hub, Depends(get_hub)]
AuthHeader = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]
_403 = {"description": "Missing or wrong presenter token."}
_404 = {"description": "No live session with that code (never made, ended, or expired)."}
_429 = {"description": "A per-client rate or a session cap was reached; see the message and `Retry-After`."}


def _too_many(detail: str, retry_after: int) -> HTTPException:
    return HTTPException(429, detail, headers={"Retry-After": str(max(1, int(retry_after)))})


async def _session(code: str, hub: Hub, request: Request) -> dict:
    """The session named by `code`; unknown codes count against the client's join-miss limit (guessing)."""
    settings: Settings = hub.settings
    bucket = "joinmiss:" + client_key(request)
    if not await hub.store.hit(bucket, settings.class_join_misses, settings.class_join_window_s, cost=0):
        raise _too_many("too many unknown class codes from this address; check the code and try again in a minute",
                        settings.class_join_window_s)
    normal = normalize(code)
    doc = await hub.store.get(normal) if normal else None
    if doc is None:
        await hub.store.hit(bucket, settings.class_join_misses, settings.class_join_window_s)
        raise HTTPException(404, "no live class with that code (it may have ended)")
    return doc


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


async def _presenter(code: str, hub: Hub, request: Request, authorization: str | None) -> dict:
    doc = await _session(code, hub, request)
    if not token_matches(_bearer(authorization), doc["token_hash"]):
        raise HTTPException(403, "only the presenter of this class may do that")
    return doc


def _check_state(state: dict, settings: Settings) -> None:
    size = len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > settings.class_max_state_bytes:
        raise HTTPException(413, f"class state is {size} bytes; the limit is {settings.class_max_state_bytes}")


def _check_trace_key(key: str | None) -> None:
    if key is not None and not valid_key(key):
        raise HTTPException(422, "trace_key is not a trace key (32 hex digits)")


@router.post("", status_code=201, response_model=ClassCreated, summary="Start a class session",
             responses={413: {"description": "Program or state over its limit."}, 429: _429,
                        503: {"description": "The server holds class_max_sessions sessions already."}})
async def create_class(body: ClassIn, hub: HubDep, settings: SettingsDep, request: Request):
    """A join code, its link and the presenter token (shown once; only its hash is kept)."""
    ensure_code_fits(body.program.code, settings)
    state = body.state.model_dump()
    _check_state(state, settings)
    _check_trace_key(body.trace_key)
    if not await hub.store.hit("create:" + client_key(request), settings.class_create_count,
                               settings.class_create_window_s):
        raise _too_many("too many class sessions started from this address; end one or try again later",
                        settings.class_create_window_s)
    token = new_token()
    for _ in range(8):
        code = new_code()
        doc = {"code": code, "token_hash": token_hash(token), "program": body.program.model_dump(),
               "trace_key": body.trace_key, "state": state, "question": None, "seq": 1}
        made = await hub.store.create(doc, settings.class_idle_s, settings.class_max_sessions)
        if made == "ok":
            break
        if made == "full":
            raise HTTPException(503, "this server runs as many class sessions as it may; try again later",
                                headers={"Retry-After": "60"})
    else:
        raise HTTPException(503, "could not find a free join code; try again", headers={"Retry-After": "1"})
    return {"code": code, "join_url": f"/c/{code}", "presenter_token": token, "expires_in": settings.class_idle_s,
            "events_url": f"/api/v1/classes/{code}/events"}


@router.get("/{code}", response_model=ClassView, responses={404: _404, 429: _429}, summary="A session's state")
async def read_class(code: str, hub: HubDep, request: Request):
    doc = await _session(code, hub, request)
    return public_view(doc, await hub.followers(doc["code"]))


@router.put("/{code}/state", response_model=Seq, responses={403: _403, 404: _404, 413: {"description": "Too big."}},
            summary="Drive: the presenter's step, view, and (re-run) program")
async def put_state(code: str, body: StateIn, hub: HubDep, settings: SettingsDep, request: Request,
                    authorization: AuthHeader = None):
    doc = await _presenter(code, hub, request, authorization)
    changes = {"state": body.state.model_dump()}
    _check_state(changes["state"], settings)
    if body.program is not None:
        ensure_code_fits(body.program.code, settings)
        changes["program"] = body.program.model_dump()
        changes["trace_key"] = None  # a new program's key, unless given below
    if "trace_key" in body.model_fields_set:
        _check_trace_key(body.trace_key)
        changes["trace_key"] = body.trace_key
    doc = await hub.store.update(doc["code"], changes, settings.class_idle_s)
    if doc is None:
        raise HTTPException(404, "no live class with that code (it may have ended)")
    await hub.publish_state(doc)
    return {"seq": doc["seq"]}


@router.get("/{code}/events", responses={200: {"content": {"text/event-stream": {}}, "description": "The stream."},
                                          404: _404, 429: _429}, summary="Follow: Server-Sent Events")
async def follow(code: str, hub: HubDep, request: Request,
                 last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None):
    """`state` (id = seq; sent first unless Last-Event-ID is already the current seq), `question`, `tally`,
    `reveal`, `end`; a heartbeat comment every class_heartbeat_s. Never runs a program."""
    doc = await _session(code, hub, request)
    try:
        last = int(last_event_id or 0)
    except ValueError:
        last = 0
    try:
        stream = await hub.open(doc["code"], last)
    except Full:
        raise _too_many(f"this class is full ({hub.settings.class_max_followers} followers)", 30) from None
    doc = await hub.store.get(doc["code"])  # after registering: no change falls between the two
    if doc is None:
        hub.drop(stream)
        raise HTTPException(404, "no live class with that code (it may have ended)")
    first = []
    if stream.last_seq > doc["seq"]:  # an id this session never gave (another session's, or forged): start over
        stream.last_seq = 0
    if doc["seq"] > stream.last_seq:
        stream.last_seq = doc["seq"]
        first.append(frame("state", public_view(doc, await hub.followers(doc["code"])), doc["seq"]))
    question = doc.get("question")
    if question is not None:
        found = await hub.store.question(doc["code"], question["id"])
        if found is not None:
            first.append(frame("tally", tally_view(found, False)))
    return EventStreamResponse(hub.events(stream, first), hub.server_id)


@router.delete("/{code}", status_code=204, responses={403: _403, 404: _404}, summary="End the session")
async def end_class(code: str, hub: HubDep, request: Request, authorization: AuthHeader = None):
    doc = await _presenter(code, hub, request, authorization)
    await hub.store.delete(doc["code"])
    await hub.publish(doc["code"], "end", {"code": doc["code"], "reason": "ended"})
    return Response(status_code=204)


@router.post("/{code}/questions", status_code=201, response_model=QuestionId,
             responses={403: _403, 404: _404, 413: {"description": "Prompt or a choice too long."}},
             summary="Ask the class a multiple-choice question")
async def ask(code: str, body: QuestionIn, hub: HubDep, settings: SettingsDep, request: Request,
              authorization: AuthHeader = None):
    doc = await _presenter(code, hub, request, authorization)
    longest = max(len(body.prompt), *(len(c) for c in body.choices))
    if longest > settings.class_max_prompt_chars:
        raise HTTPException(413, f"a prompt or choice has {longest} characters; the limit is "
                            f"{settings.class_max_prompt_chars}")
    if body.correct >= len(body.choices):
        raise HTTPException(422, "correct must be the index of one of the choices")
    question = {"id": new_question_id(), **body.model_dump()}
    await hub.store.add_question(doc["code"], question, settings.class_idle_s)
    doc = await hub.store.update(doc["code"], {"question": {**question, "revealed": False}}, settings.class_idle_s)
    if doc is None:
        raise HTTPException(404, "no live class with that code (it may have ended)")
    await hub.publish(doc["code"], "question", public_question(doc["question"]))
    await hub.publish_state(doc)
    return {"id": question["id"]}


async def _question(code: str, qid: str, hub: Hub, request: Request, doc: dict | None = None) -> tuple[dict, dict]:
    doc = doc or await _session(code, hub, request)
    found = await hub.store.question(doc["code"], qid) if valid_question_id(qid) else None
    if found is None:
        raise HTTPException(404, "no such question in this class")
    return doc, found


@router.post("/{code}/questions/{qid}/answers", status_code=204,
             responses={404: _404, 409: {"description": "Already answered, or already revealed."}, 429: _429},
             summary="Answer (one answer per follower per question)")
async def answer(code: str, qid: str, body: AnswerIn, hub: HubDep, settings: SettingsDep, request: Request):
    doc, found = await _question(code, qid, hub, request)
    if body.choice >= len(found["choices"]):
        raise HTTPException(422, f"choice must be below {len(found['choices'])}")
    if found["revealed"]:
        raise HTTPException(409, "this question was already revealed")
    if not await hub.store.hit("answer:" + client_key(request), settings.class_answer_count,
                               settings.class_answer_window_s):
        raise _too_many("too many answers from this address; try again shortly", 5)
    outcome = await hub.store.answer(doc["code"], qid, body.follower, body.choice, settings.class_max_followers,
                                     settings.class_idle_s)
    if outcome == "duplicate":
        raise HTTPException(409, "this follower already answered this question")
    if outcome == "full":
        raise _too_many(f"this question has its {settings.class_max_followers} answers", 60)
    if outcome == "missing":
        raise HTTPException(404, "no such question in this class")
    hub.schedule_tally(doc["code"], qid)
    return Response(status_code=204)


@router.get("/{code}/questions/{qid}/tally", response_model=Tally, response_model_exclude_none=True,
            responses={404: _404}, summary="Answer counts (the right answer only to the presenter, or once revealed)")
async def tally(code: str, qid: str, hub: HubDep, request: Request, authorization: AuthHeader = None):
    doc, found = await _question(code, qid, hub, request)
    presenter = token_matches(_bearer(authorization), doc["token_hash"])
    return tally_view(found, presenter)


@router.post("/{code}/questions/{qid}/reveal", response_model=Tally, responses={403: _403, 404: _404},
             summary="Reveal the right answer to everyone")
async def reveal(code: str, qid: str, hub: HubDep, settings: SettingsDep, request: Request,
                 authorization: AuthHeader = None):
    doc = await _presenter(code, hub, request, authorization)
    doc, _ = await _question(code, qid, hub, request, doc)
    found = await hub.store.reveal(doc["code"], qid)
    if found is None:
        raise HTTPException(404, "no such question in this class")
    view = tally_view(found, True)
    await hub.publish(doc["code"], "reveal", view)
    current = doc.get("question")
    if current is not None and current["id"] == qid:
        doc = await hub.store.update(doc["code"], {"question": {**current, "revealed": True}}, settings.class_idle_s)
        if doc is not None:
            await hub.publish_state(doc)
    return view
