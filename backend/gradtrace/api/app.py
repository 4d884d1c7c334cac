"""The FastAPI application factory."""
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..config import Settings, get_settings
from ..runner import Runner
from . import classes, door, export_html, headers, routes, snippets
from .seats import Seats

log = logging.getLogger("gradtrace")


def default_runner(settings: Settings) -> Runner:
    """The sandboxed worker pool."""
    from ..sandbox import SandboxRunner

    return SandboxRunner(settings)


def create_app(settings: Settings | None = None, runner: Runner | None = None) -> FastAPI:
    settings = settings or get_settings()

    # The one place the app's services are made, started and closed: the API's dependencies only read app.state, so
    # a client must run the lifespan (`with TestClient(app)`). A runner passed in belongs to the caller, who closes it.
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.runner = runner or default_runner(settings)
        start = getattr(app.state.runner, "start", None)
        if start is not None:
            result = start()
            if hasattr(result, "__await__"):
                await result
        from ..cache import TraceService

        app.state.traces = TraceService.from_settings(settings)
        app.state.traces.pool.start()  # the check processes import while the server starts, not at the first run
        from ..classes import hub_from_settings

        app.state.classes = hub_from_settings(settings)
        await app.state.classes.start()
        await app.state.seats.start()
        try:
            yield
        finally:
            await app.state.traces.close()
            await app.state.classes.close()
            if runner is None:
                app.state.runner.close()
            store = getattr(app.state, "snippets", None)
            if store is not None:
                store.close()

    app = FastAPI(
        title="gradtrace",
        version=__version__,
        description="Run a PyTorch program and get back what autograd did: every tensor operation, the autograd "
        "graph, and each backward pass in the order the engine really ran it.",
        lifespan=lifespan,
        docs_url=None,  # served below from our own static files: the default page loads Swagger UI from a CDN
        redoc_url=None,
        openapi_url=None,  # served below, with the security headers every page gets
    )
    app.state.settings = settings

    app.state.seats = Seats(settings)
    door.install(app, settings, app.state.seats)  # body/header caps, 422 for any malformed value, client key for fair queueing

    @app.exception_handler(StarletteHTTPException)
    async def body_errors_are_422(request: Request, exc: StarletteHTTPException):
        # FastAPI answers 400 for a body it cannot even decode (e.g. a UTF-16 BOM); the spec says 422.
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            return JSONResponse({"detail": [{"type": "body_invalid", "loc": ["body"], "msg": str(exc.detail)}]},
                                status_code=422)
        return await http_exception_handler(request, exc)

    from ..classes.redis_store import StoreDown

    @app.exception_handler(StoreDown)
    async def class_store_down(request: Request, exc: StoreDown):
        log.warning("class store unavailable: %s", exc)
        return JSONResponse({"detail": "live classes are unavailable for a moment (the shared store did not "
                             "answer); try again shortly"}, status_code=503, headers={"Retry-After": "5"})

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document():
        return headers.secure(JSONResponse(app.openapi()), headers.DATA_CSP)

    @app.get("/docs", include_in_schema=False)
    async def api_docs():
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="gradtrace API",
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/img/icon.svg")
        value = headers.nonce()  # Swagger UI starts from one inline script and styles itself inline
        body = page.body.replace(b"<script>", f'<script nonce="{value}">'.encode()).replace(
            b"<style>", f'<style nonce="{value}">'.encode())
        return headers.secure(HTMLResponse(body), headers.page_csp(value, scripts=True))

    app.include_router(routes.router)
    app.include_router(snippets.router)
    app.include_router(classes.router)
    app.include_router(export_html.router)
    try:
        from .. import web
    except ImportError:  # the page is optional for API-only use
        web = None
    if web is not None:
        app.include_router(web.router)
        web.mount_static(app, settings)
    return app
