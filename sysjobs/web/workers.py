"""``GET /api/workers``: the workers registry, as the dashboard's Workers view shows it.

Each row is a pool of job slots (a worker process, or a pool in a host's own process): host,
pid, slots, busy slots and their job ids, queues, the app keys it serves, when it started,
when it last sent a heartbeat, and whether it is ``alive`` or ``gone`` (no heartbeat for a
few lease periods: it died). By default the workers that serve this dashboard's app; any
other ``app`` — ``*`` for every worker of the database — is for the admin token (the
operator), as other apps' workers are not the read token's business.
"""

from __future__ import annotations

from starlette.requests import Request

from sysjobs.errors import BadRequest
from sysjobs.jobs.apps import KEY_FORM, check_app_key
from sysjobs.jobs.workers import list_workers
from sysjobs.web.api import host_of
from sysjobs.web.auth import Role, require
from sysjobs.web.errors import ApiError, Reply, bad_parameter
from sysjobs.web.params import Params, text
from sysjobs.web.views import workers_json

#: ``app=*``: the workers of every app.
EVERY_APP = "*"
#: The states a ``state`` filter may name.
STATES = ("alive", "gone")


def app_param(name: str, raw: str) -> str:
    """An app key, or ``*`` for every app."""
    if raw == EVERY_APP:
        return raw
    try:
        return check_app_key(text(64, KEY_FORM)(name, raw), name)
    except BadRequest:
        allowed = f"{EVERY_APP} (every app) or an app key: {KEY_FORM}"
        raise bad_parameter(name, raw, allowed) from None


def state_param(name: str, raw: str) -> str:
    """``alive`` or ``gone``."""
    if raw not in STATES:
        raise bad_parameter(name, raw, ", ".join(STATES))
    return raw


CHECKS = Params({"app": app_param, "state": state_param})


def workers(request: Request) -> Reply:
    """GET /api/workers — ``{app, goneAfterLeases, count, workers}``, oldest start first."""
    role = require(request)
    query = CHECKS.parse(request)
    engine = host_of(request).engine
    app: str = query.get("app", engine.app)
    if app != engine.app and role is not Role.ADMIN:
        raise ApiError(403, "forbidden", "Only the admin token sees the workers of other apps "
                       f"(parameter 'app'); this token sees those of '{engine.app}'")  # fmt: skip
    found = list_workers(engine, None if app == EVERY_APP else app)
    state = query.get("state")
    return Reply(workers_json(app, [w for w in found if state is None or w.state == state]))
