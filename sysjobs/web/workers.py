"""``GET /api/workers``: the workers registry, as the dashboard's Workers view shows it.

Each row is a pool of job slots (a worker process, or a pool in a host's own process): host,
pid, slots, busy slots and their job ids, queues, the app keys it serves, when it started,
when it last sent a heartbeat, and whether it is ``alive`` or ``gone`` (no heartbeat for a
few lease periods: it died). By default the workers that serve the request's app (the
``X-Sysjobs-App`` header's, else an app token's own). Any other ``app`` — ``*`` for every
worker of the database — is for the operator's tokens (admin or read, which reach every
app); an app's own token sees only the workers serving its app, as other apps' workers are
not its business — and a pool serving other apps too as its app's part only (its key, its
jobs: ``seen_by_app``).
"""

from __future__ import annotations

from starlette.requests import Request

from sysjobs.errors import BadRequest
from sysjobs.jobs.apps import KEY_FORM, check_app_key
from sysjobs.jobs.workers import list_workers, seen_by_app
from sysjobs.web.api import host_of
from sysjobs.web.auth import AuthConfig, bearer, require
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
    require(request)
    query = CHECKS.parse(request)
    engine = host_of(request).engine
    app: str = query.get("app", engine.app)
    _require_reach(request, app)
    found = list_workers(engine, None if app == EVERY_APP else app)
    if _app_token(request) is not None:  # a pool serving other apps too: this app's part
        found = seen_by_app(engine, found, app)
    state = query.get("state")
    return Reply(workers_json(app, [w for w in found if state is None or w.state == state]))


def _require_reach(request: Request, app: str) -> None:
    """403 when an app's token asks for another app's workers or every app's (``*``)."""
    own = _app_token(request)
    if own is not None and app != own:
        raise ApiError(403, "forbidden", f"This token reaches app '{own}' only: it sees the "
                       f"workers serving '{own}', not those of app {app[:100]!r} "
                       "(parameter 'app')")  # fmt: skip


def _app_token(request: Request) -> str | None:
    """The app of the caller's app token (None: an operator's token)."""
    config: AuthConfig = request.app.state.auth
    return config.app_of(bearer(request))
