"""The JSON API of jobs: list, show, logs, the user verbs, low priority and stats.

It mirrors ``sysjobs jobs …``: query parameters are the spec's own names (``type``,
``status``, ``startFrom`` … ``hasErrors``, ``_size``; ``level``, ``message``, ``from``,
``to``, ``period`` for logs) and go to the engine unchanged, so a bad filter is the same
``badRequest`` a script would get. Verbs follow the engine's state machine: an illegal one
is a 400 naming the status the job is in. Handlers are plain functions (Starlette runs
them in its thread pool) because the engine is synchronous.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from sysjobs.errors import Conflict
from sysjobs.host import Host
from sysjobs.jobs.stats import engine_stats
from sysjobs.web.auth import require
from sysjobs.web.errors import ApiError, bad_parameter
from sysjobs.web.views import actions_for, event_json, job_json, log_json, stats_json

#: Page size of the list when the client does not say.
DEFAULT_SIZE = "50"
#: The longest throughput window a stats request may ask for (a year).
MAX_WINDOW_S = 365 * 86_400.0
#: The verbs a POST may name, and the engine method of each.
VERB_METHODS = {"stop": "stop", "force-stop": "force_stop", "resume": "resume", "cancel": "cancel"}


def host_of(request: Request) -> Host:
    """The host the app was built on."""
    host: Host = request.app.state.host
    return host


def list_jobs(request: Request) -> JSONResponse:
    """GET /api/jobs — newest first, filtered by the spec's find parameters."""
    require(request)
    query: dict[str, Any] = dict(request.query_params)
    query.setdefault("_size", DEFAULT_SIZE)
    cursor = host_of(request).engine.find(query)
    jobs = [job_json(job) for job in cursor]
    return JSONResponse({"count": cursor.count(), "jobs": jobs})


def show_job(request: Request) -> JSONResponse:
    """GET /api/jobs/{id} — the job, plus its transitions."""
    require(request)
    engine = host_of(request).engine
    job = engine.require(request.path_params["job_id"])
    events = [event_json(e) for e in engine.events(job.id)]
    return JSONResponse({**job_json(job), "events": events})


def job_logs(request: Request) -> JSONResponse:
    """GET /api/jobs/{id}/logs — filtered like ``logs``; ``after=<ts>:<id>`` for following."""
    require(request)
    query: dict[str, Any] = dict(request.query_params)
    after = _after(query.pop("after", None))
    if after is not None:
        query.pop("period", None)
        given = str(query.get("from") or "0")
        query["from"] = str(max(after[0], int(given))) if given.isdigit() else given
    cursor = host_of(request).engine.logs(request.path_params["job_id"], query)
    entries = [log_json(e) for e in cursor]
    if after is not None:
        entries = [e for e in entries if (e["timestamp"], e["id"]) > after]
    return JSONResponse({"count": cursor.count(), "logs": entries})


def _after(raw: str | None) -> tuple[int, int] | None:
    if raw is None:
        return None
    ts, _, last_id = raw.partition(":")
    if not (ts.isdigit() and last_id.isdigit()):
        raise bad_parameter("after", raw, "<milliseconds>:<log id>")
    return int(ts), int(last_id)


def job_verb(request: Request) -> JSONResponse:
    """POST /api/jobs/{id}/{verb} — stop, force-stop, resume or cancel."""
    require(request, write=True)
    verb = request.path_params["verb"]
    if verb not in VERB_METHODS:
        raise ApiError(404, "notFound",
                       f"Unknown action {verb!r}. Allowed: {', '.join(VERB_METHODS)}")  # fmt: skip
    engine = host_of(request).engine
    job = getattr(engine, VERB_METHODS[verb])(request.path_params["job_id"])
    return JSONResponse(job_json(job))


async def low_priority(request: Request) -> JSONResponse:
    """POST /api/jobs/{id}/low-priority ``{"lowPriority": true|false}`` (PENDING/STOPPED)."""
    require(request, write=True)
    flag = (await json_body(request)).get("lowPriority")
    if not isinstance(flag, bool):
        raise bad_parameter("lowPriority", flag, "true, false")
    engine = host_of(request).engine
    job_id = request.path_params["job_id"]
    current = engine.require(job_id)
    if not actions_for(str(current.status))["lowPriority"]:
        raise Conflict(
            f"Cannot change the priority of job {job_id}: its status is {current.status}. "
            "Allowed only when the status is: PENDING, STOPPED"
        )
    return JSONResponse(job_json(engine.set_low_priority(job_id, flag)))


def stats(request: Request) -> JSONResponse:
    """GET /api/stats — queue depth, oldest pending age, running, throughput, lost leases."""
    require(request)
    window = request.query_params.get("window", "3600")
    try:
        window_s = float(window)
    except ValueError:
        window_s = -1.0
    if not 0 < window_s <= MAX_WINDOW_S:
        raise bad_parameter("window", window, f"seconds, > 0 and <= {MAX_WINDOW_S:g}")
    return JSONResponse(stats_json(engine_stats(host_of(request).engine, window_s)))


def whoami(request: Request) -> JSONResponse:
    """GET /api/me — the caller's role, so the pages can disable what it may not do."""
    return JSONResponse({"role": str(require(request))})


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 saying what was wrong with it."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ApiError(400, "badRequest", f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "badRequest", "The body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "badRequest", "The body must be a JSON object")
    return body
