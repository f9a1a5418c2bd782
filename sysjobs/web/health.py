"""``GET /health`` (no token): can the dashboard read the database, and do workers run?

For load balancers and uptime checks, so it needs no token and says nothing secret: no
database URL, no error text, no job data, no host names — only counts and ages. "Workers
seen" are the pools in the workers registry (``sysjobs.jobs.workers``) that serve this
dashboard's app and sent a heartbeat within their last few lease periods — idle ones
included, since a pool refreshes its row whether it runs jobs or not; ``gone`` counts the
rows of workers that stopped beating (died) and are not yet pruned. No worker seen is not a
failure on its own; it is one when jobs have waited longer than :data:`STALE_PENDING_S`:
the queue is not moving. It reports the dashboard's first app; another one
(``X-Sysjobs-App``) needs a token that reaches that app (401 without one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request

from sysjobs.host import Host
from sysjobs.jobs.stats import engine_stats
from sysjobs.jobs.workers import list_workers
from sysjobs.web import params
from sysjobs.web.api import APP_HEADER, host_of
from sysjobs.web.auth import AuthConfig, bearer
from sysjobs.web.errors import ApiError, Reply

log = logging.getLogger(__name__)

#: The window of the queue figures /health reads (only depth and age are shown).
WINDOW_S = 300.0
#: How long the oldest pending job may wait with no worker seen before the queue is stuck.
STALE_PENDING_S = 60.0


@dataclass(frozen=True)
class Health:
    """The checks' outcome: problems empty means healthy."""

    body: dict[str, Any]
    problems: tuple[str, ...]


def check(request: Request) -> Health:
    """Read the figures; a database that cannot answer is the one problem then."""
    engine = _host(request).engine
    try:
        stats = engine_stats(engine, WINDOW_S)
        states = [w.state for w in list_workers(engine, engine.app)]
    except (SQLAlchemyError, OSError):  # the driver's text (paths, hosts) stays in the log
        log.warning("health check: the database did not answer", exc_info=True)
        return Health({"database": "unreachable"}, ("the database does not answer",))
    oldest = stats.oldest_pending_age_ms
    seen = states.count("alive")
    body = {
        "database": "ok",
        "workers": {"seen": seen, "gone": states.count("gone")},
        "queue": {"pending": stats.pending, "running": stats.running,
                  "oldestPendingAgeMs": oldest},
    }  # fmt: skip
    stuck = seen == 0 and oldest is not None and oldest > STALE_PENDING_S * 1000
    problems = (
        (f"{stats.pending} jobs are waiting (the oldest for {oldest // 1000} s) and no "
         "worker serving this app sends heartbeats",)
        if stuck and oldest is not None else ()
    )  # fmt: skip
    return Health(body, problems)


def _host(request: Request) -> Host:
    """The app reported: the dashboard's first without a token; another one (the
    ``X-Sysjobs-App`` header's) only for a token that reaches it — else any caller would
    learn which apps are served (200 or 404) and their queues (401, whatever the app)."""
    hosts: Mapping[str, Host] = request.app.state.hosts
    auth: AuthConfig = request.app.state.auth
    named = request.headers.get(APP_HEADER)
    if named and named != next(iter(hosts)) and auth.role_of(bearer(request)) is None:
        raise ApiError(401, "unauthorized", "Another app's health (X-Sysjobs-App) needs a "
                       "valid bearer token that reaches it")  # fmt: skip
    return host_of(request)


def health(request: Request) -> Reply:
    """GET /health — 200 ``{"status": "ok", …}`` or 503 ``{"status": "error", "problems"}``."""
    params.NONE.parse(request)
    result = check(request)
    if result.problems:
        body = {"status": "error", "problems": list(result.problems), **result.body}
        return Reply(body, status_code=503)
    return Reply({"status": "ok", **result.body})
