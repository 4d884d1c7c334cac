"""Short links: store a program, get an id; `/s/{id}` opens it in the page."""
import html
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from ..snippets import SnippetStore
from .deps import SettingsDep, ensure_code_fits


class SnippetIn(BaseModel):
    model_config = ConfigDict(strict=True)

    code: str = Field(description="The program to store.")
    seed: int = Field(0, ge=-(2**63), le=2**64 - 1)


class Snippet(BaseModel):
    id: str
    code: str
    seed: int
    url: str = Field(description="Path of the page that opens this program.")


def get_store(request: Request) -> SnippetStore:
    store = getattr(request.app.state, "snippets", None)
    if store is None:
        store = request.app.state.snippets = SnippetStore(request.app.state.settings.snippet_db)
    return store


StoreDep = Annotated[SnippetStore, Depends(get_store)]
router = APIRouter(tags=["snippets"])


@router.post("/api/v1/snippets", response_model=Snippet, status_code=201, summary="Store a program for a short link",
             responses={413: {"description": "Program larger than the configured limit."}})
async def create_snippet(body: SnippetIn, store: StoreDep, settings: SettingsDep):
    ensure_code_fits(body.code, settings)
    sid = store.put(body.code, body.seed)
    return {"id": sid, "code": body.code, "seed": body.seed, "url": f"/s/{sid}"}


@router.get("/api/v1/snippets/{sid}", response_model=Snippet, responses={404: {"description": "No such snippet."}})
async def read_snippet(sid: str, store: StoreDep):
    found = store.get(sid)
    if found is None:
        raise HTTPException(404, "no snippet with that id")
    return {**found, "url": f"/s/{sid}"}


_NOT_FOUND = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Snippet not found · gradtrace</title>
<style>body{{font:18px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}}</style></head>
<body><h1>Snippet not found</h1><p>No stored program has the id <code>{sid}</code>. The link may be mistyped,
or it was made on another gradtrace server.</p><p><a href="/">Open gradtrace</a></p></body></html>"""


@router.get("/s/{sid}", include_in_schema=False)
async def open_snippet(sid: str, store: StoreDep):
    if store.get(sid) is None:
        return HTMLResponse(_NOT_FOUND.format(sid=html.escape(sid[:64])), status_code=404)
    return RedirectResponse(f"/?s={sid}", status_code=303)
