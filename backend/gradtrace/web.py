"""The web page: `/` from frontend/templates/index.html and `/static/...` from frontend/static/.

The pages are a plain APIRouter; `/static` is a mount (`PageStatic`), and include_router drops mounts, so the app
factory does both: `app.include_router(web.router)` and `web.mount_static(app, settings)`. Every page response
carries a strict Content-Security-Policy.
"""
import secrets
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from . import __version__
from .cache import cache_namespace, request_defaults
from .classes.codes import normalize
from .config import Settings, get_settings

# Only the app's own scripts run; inline scripts, eval, plugins, framing by others and
# foreign connections are all refused. The one inline <style> allowed is CodeMirror's,
# which carries the per-response nonce (EditorView.cspNonce). Only /embed may be framed by other sites.
CSP_TEMPLATE = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'nonce-{nonce}'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors {ancestors}",
])
EMBED_ANCESTORS = "* file: data: blob:"  # /embed: any page may frame it
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

router = APIRouter(include_in_schema=False)


def _settings(request: Request):
    """The app's settings (create_app's), falling back to the environment's."""
    return getattr(request.app.state, "settings", None) or get_settings()


def frontend_dir(request: Request) -> Path:
    return Path(_settings(request).frontend_dir)


@lru_cache(maxsize=4)
def _templates(folder: str) -> Jinja2Templates:
    return Jinja2Templates(directory=folder)


def csp(nonce: str, ancestors: str = "'self'") -> str:
    return CSP_TEMPLATE.format(nonce=nonce, ancestors=ancestors)


def page_config(request: Request, nonce: str) -> dict:
    """What the page needs before its first fetch, embedded as JSON (never as script)."""
    settings = _settings(request)
    return {
        "styleNonce": nonce,
        "version": __version__,
        "api": "/api/v1",
        "maxCodeBytes": settings.max_code_bytes,
        "defaultExample": "basic-mul",
        # The trace cache's key space: the page GETs /api/v1/traces/{key} before it POSTs (trace-key.js).
        "traceKeys": {"namespace": cache_namespace(settings), "defaults": request_defaults()},
    }


def _page(request: Request, template: str, *, embeddable: bool, extra: dict | None = None) -> Response:
    templates = _templates(str(frontend_dir(request) / "templates"))
    nonce = secrets.token_urlsafe(16)
    config = {**page_config(request, nonce), **(extra or {})}
    response = templates.TemplateResponse(request, template, {"config": config, "version": __version__})
    response.headers.update(SECURITY_HEADERS)
    # '*' alone matches only network schemes: slides opened from file:// need file: (and data:/blob: viewers) too.
    response.headers["Content-Security-Policy"] = csp(nonce, EMBED_ANCESTORS if embeddable else "'self'")
    if not embeddable:  # the same rule for browsers that predate frame-ancestors
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-cache"
    return response


async def _seated(request: Request, response: Response) -> Response:
    """The page, with a seat cookie for a browser that has none (api/seats.py: students behind one NAT)."""
    seats, hub = getattr(request.app.state, "seats", None), getattr(request.app.state, "classes", None)
    if seats is not None and hub is not None:
        await seats.issue(request, response, hub.store.hit)
    return response


@router.get("/", response_class=HTMLResponse)
async def index(request: Request):
    """The app: editor, gallery, graph and timeline. Only this origin may frame it."""
    return await _seated(request, _page(request, "index.html", embeddable=False))


@router.get("/embed", response_class=HTMLResponse)
async def embed(request: Request):
    """Graph, controls and narration for an <iframe> anywhere: the program comes from the URL fragment, or from
    the live class named by `?class=CODE` (config `class`, as for /c/{code})."""
    normal = normalize(request.query_params.get("class", ""))
    return await _seated(request, _page(request, "embed.html", embeddable=True,
                                        extra=_class_config(normal) if normal else None))


@router.get("/c/{code}", response_class=HTMLResponse)
async def follow_class(code: str, request: Request):
    """The app, told to follow the live class `code` (config `class`: its code and event stream)."""
    normal = normalize(code)
    if normal is None:
        raise HTTPException(404, "not a class code")
    return await _seated(request, _page(request, "index.html", embeddable=False, extra=_class_config(normal)))


def _class_config(code: str) -> dict:
    return {"class": {"code": code, "url": f"/api/v1/classes/{code}", "events": f"/api/v1/classes/{code}/events"}}


class PageStatic(StaticFiles):
    """Vendored libraries, our ES modules, CSS and icons (ETag/304 by StaticFiles), as modules need them:
    `.js` as text/javascript, never sniffed, revalidated by default, and 404 for anything that is not a file."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            raise StarletteHTTPException(405, headers={"Allow": "GET, HEAD"})
        try:
            response = await super().get_response(path, scope)
        except (StarletteHTTPException, OSError, ValueError) as exc:  # missing, a folder, unreadable, a NUL byte
            raise StarletteHTTPException(404) from exc
        if path.endswith(".js"):
            response.headers["Content-Type"] = "text/javascript; charset=utf-8"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def mount_static(app: FastAPI, settings: Settings) -> None:
    """Serve frontend/static/ at /static (a mount: the factory calls this, include_router would drop it)."""
    app.mount("/static", PageStatic(directory=Path(settings.frontend_dir) / "static", check_dir=False), name="static")
