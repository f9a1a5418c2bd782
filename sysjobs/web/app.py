"""The dashboard: an ASGI (Starlette) app over a :class:`~sysjobs.host.Host`.

``/api/…`` is the JSON API (bearer token; see :mod:`sysjobs.web.auth`), ``/`` and
``/jobs/{id}``, ``/console`` are plain HTML pages with vanilla JS shipped as package data —
no build step — that poll the API for live status, progress and logs. ``/health`` (no
token) and ``/metrics`` (Prometheus, read token) are for monitoring.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sysjobs.errors import SysError
from sysjobs.host import Host
from sysjobs.web import api, errors, health, metrics, params, schedules, scripts, workers
from sysjobs.web.auth import AuthConfig, require
from sysjobs.web.body import BodyLimit
from sysjobs.web.limits import WebLimits
from sysjobs.web.openapi import document

STATIC = Path(__file__).parent / "static"


#: Pages load only their own scripts and styles, cannot be framed, and send no referrer.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _html(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / name, media_type="text/html", headers=PAGE_HEADERS)

    return page


def openapi(request: Request) -> JSONResponse:
    """The API's OpenAPI document; it needs a token like every ``/api`` route."""
    require(request)
    params.NONE.parse(request)
    return errors.Reply(document())


async def favicon(_request: Request) -> Response:
    """The SVG icon, also where browsers look for it without a ``<link rel=icon>``."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


def routes() -> list[Route | Mount]:
    """Every route; ``/low-priority`` before the generic ``/{verb}``."""
    return [
        Route("/", _html("index.html")),
        Route("/workers", _html("workers.html")),
        Route("/schedules", _html("schedules.html")),
        Route("/jobs/{job_id}", _html("job.html")),
        Route("/console", _html("console.html")),
        Route("/app-logs", _html("app-logs.html")),
        Route("/favicon.ico", favicon),
        Route("/health", health.health),
        Route("/metrics", metrics.metrics),
        Route("/api/openapi.json", openapi),
        Route("/api/me", api.whoami),
        Route("/api/apps", api.apps_list),
        Route("/api/stats", api.stats),
        Route("/api/stats/series", api.stats_series),
        Route("/api/workers", workers.workers),
        Route("/api/schedules", schedules.schedules),
        Route("/api/app-logs", api.app_logs),
        Route("/api/jobs", api.list_jobs),
        Route("/api/jobs/{job_id}", api.show_job),
        Route("/api/jobs/{job_id}/logs", api.job_logs),
        Route("/api/jobs/{job_id}/children", api.tree_jobs),
        Route("/api/jobs/{job_id}/low-priority", api.low_priority, methods=["POST"]),
        Route("/api/jobs/{job_id}/{verb}", api.job_verb, methods=["POST"]),
        Route("/api/scripts", scripts.run_script, methods=["POST"]),
        Route("/api/files/{file_id}/download", scripts.download_file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(
    host: Host, auth: AuthConfig, *, db_url: str | None = None, app_dir: str | None = None,
    limits: WebLimits | None = None, apps: Sequence[Host] = (),
) -> Starlette:  # fmt: skip
    """The dashboard over ``host`` (and the Hosts of other ``apps`` on the same database:
    each request is about one app, picked by the ``X-Sysjobs-App`` header, ``GET
    /api/apps`` lists them); ``db_url``/``app_dir`` let console scripts open the same (by
    default the host's database and app folder; each other app's console its Host's);
    a console forks its script child from its Host's launcher, if it has one;
    ``limits`` caps bodies and pages (the defaults of :class:`WebLimits` when None)."""
    limits = limits or WebLimits()
    db_url = db_url if db_url is not None else host.engine.url  # the dashboard's database
    first = app_dir if app_dir is not None else host.app_dir
    each = {h.app_key: scripts.ScriptConsole(db_url, h.app_dir, launcher=h.launcher)
            for h in apps}  # fmt: skip
    each[host.app_key] = scripts.ScriptConsole(db_url, first, launcher=host.launcher)
    consoles = scripts.Consoles(each, limits.max_consoles, limits.max_script_requests)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            consoles.close()

    app = Starlette(
        routes=routes(),
        lifespan=lifespan,
        middleware=[Middleware(BodyLimit, max_bytes=limits.max_body_bytes)],
        exception_handlers={
            errors.ApiError: errors.on_api_error,
            SysError: errors.on_sys_error,
            HTTPException: errors.on_http_error,
            Exception: errors.on_unexpected,
        },
    )
    app.state.host, app.state.auth, app.state.consoles = host, auth, consoles
    app.state.hosts = {h.app_key: h for h in (host, *apps)}
    app.state.limits = limits
    return app
