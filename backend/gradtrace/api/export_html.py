"""`POST /api/v1/export/html`: the page's "Download standalone HTML" — trace in the sandbox, wrap with gradtrace.export."""
import json
import re
from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ..schema import TraceRequest
from .deps import RunnerDep, SettingsDep, TracesDep, cached_trace, ensure_code_fits, run_program


class HtmlExportIn(BaseModel):
    model_config = ConfigDict(strict=True)

    code: str = Field(description="The program; it runs in the sandbox exactly as for POST /api/v1/traces.")
    seed: int = Field(0, ge=-(2**63), le=2**64 - 1)
    step: Annotated[int, Field(ge=0)] | Literal["end"] | None = Field(None, description="Where playback starts: a step, 'end', or null.")
    theme: Literal["light", "dark"] = "light"
    title: str | None = Field(None, max_length=200, description="Document title; default: the program's `# title:`.")


router = APIRouter(prefix="/api/v1", tags=["export"])
_BUSY = {"description": "Every worker is busy; retry after `Retry-After` seconds."}


def filename(title: str) -> str:
    """A plain ASCII file name from a title ("Chain rule!" → gradtrace-chain-rule.html)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
    return f"gradtrace-{slug or 'trace'}.html"


@router.post("/export/html", summary="The program's animation as one standalone HTML file",
             response_class=Response,
             responses={200: {"content": {"text/html": {}}, "description": "An HTML document, as an attachment."},
                        413: {"description": "Program larger than the configured limit."}, 429: _BUSY, 503: _BUSY})
async def export_html(body: HtmlExportIn, settings: SettingsDep, runner: RunnerDep, traces: TracesDep):
    """Runs `code` in the sandbox and returns the file that plays it offline (a failing program still exports)."""
    from ..export import ExportError, standalone_html
    from ..export.standalone import default_title

    ensure_code_fits(body.code, settings)
    wanted = TraceRequest(code=body.code, seed=body.seed, format="compact", compact_version=2)  # the POST's key
    cached = await cached_trace(traces, wanted.model_dump(mode="json"), lambda: run_program(runner, body.code, body.seed))
    title = (body.title or "").strip() or default_title(body.code)
    try:
        html = await run_in_threadpool(lambda: standalone_html(json.loads(cached.body), body.code, title=title, theme=body.theme, step=body.step))
    except ExportError as exc:  # e.g. the player bundle was never built on this server
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename(title)}"',
        # Never rendered as one of our pages: if it were, its inline script gets no access to this origin.
        "Content-Security-Policy": "sandbox allow-scripts",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    })
