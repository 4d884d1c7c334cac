"""Request and response bodies of the class-session API (docs/class-api.md)."""
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Program(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(description="The program the class follows.")
    seed: int = Field(0, ge=-(2**63), le=2**64 - 1)


class ClassState(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: int = Field(ge=0, le=10_000_000, description="The step the presenter shows.")
    view: dict[str, Any] = Field(default_factory=dict, description="The presenter's view (iteration, opened "
                                 "blocks/modules…); followers apply it, keeping their own theme.")


class ClassIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: Program
    state: ClassState = Field(default_factory=lambda: ClassState(step=0))
    trace_key: str | None = Field(None, description="Key of the program's trace in the trace cache, if known.")


class StateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: Program | None = Field(None, description="A re-run or edited program (omit: unchanged).")
    trace_key: str | None = Field(None, description="Its trace's key (omit with a new program: followers POST it, "
                                  "sharing one run through the trace cache).")
    state: ClassState


class ClassCreated(BaseModel):
    code: str = Field(description="Join code: 6 characters of an alphabet without look-alikes.")
    join_url: str
    presenter_token: str = Field(description="Send as `Authorization: Bearer …` to drive, ask, reveal and end.")
    expires_in: int = Field(description="Seconds without a presenter action before the session ends.")
    events_url: str


class QuestionOut(BaseModel):
    id: str
    step: int
    prompt: str
    choices: list[str]
    revealed: bool
    correct: int | None = Field(None, description="Present once revealed.")


class ClassView(BaseModel):
    code: str
    seq: int = Field(description="Grows with every presenter change; the `id:` of `state` events.")
    program: Program
    trace_key: str | None
    state: ClassState
    question: QuestionOut | None
    followers: int
    ended: bool


class Seq(BaseModel):
    seq: int


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: int = Field(ge=0, le=10_000_000)
    prompt: str = Field(min_length=1)
    choices: list[str] = Field(min_length=2, max_length=8)
    correct: int = Field(ge=0, le=7)


class QuestionId(BaseModel):
    id: str


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: int = Field(ge=0, le=7)
    follower: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="A random id the follower's browser makes "
                          "once and keeps for the session (one answer per follower per question).")


class Tally(BaseModel):
    id: str
    counts: list[int]
    total: int
    correct: int | None = Field(None, description="Only for the presenter, or once revealed.")
