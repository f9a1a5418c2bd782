"""``GET /api/schedules``: the request's app's cron schedules, as the Schedules view shows them.

One entry per schedule of the app (the ``X-Sysjobs-App`` header's, else an app token's own):
its cron expression and time zone, what it starts, whether it is active, disabled or removed
from the manifest, its next run, and its last run (tick, when its job started, the job's id
and status). An app's token reaches its own app's schedules only (``host_of``: 403
otherwise). The JSON is ``sysjobs schedules --json``'s (``sysjobs.web.schedule_views``).
"""

from __future__ import annotations

from starlette.requests import Request

from sysjobs.jobs.schedules import list_schedules
from sysjobs.web import params
from sysjobs.web.api import host_of
from sysjobs.web.auth import require
from sysjobs.web.errors import Reply
from sysjobs.web.schedule_views import schedules_json


def schedules(request: Request) -> Reply:
    """GET /api/schedules — ``{app, count, schedules}``, by name."""
    require(request)
    params.NONE.parse(request)
    engine = host_of(request).engine
    return Reply(schedules_json(engine.app, list_schedules(engine.parts)))
