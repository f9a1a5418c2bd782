"""The JSON API of jobs: list, show, logs, the user verbs, low priority and stats.

It mirrors ``sysjobs jobs …``: query parameters are the spec's own names (``type``,
``status``, ``startFrom`` … ``hasErrors``, ``_size``; ``level``, ``message``, ``from``,
``to``, ``period`` for logs). Each is checked where it enters (:mod:`sysjobs.web.params`:
ASCII digits, 64-bit ranges, length caps) and then goes to the engine, so a bad filter is
the same ``badRequest`` a script would get. Logs come in pages bounded in lines and bytes
(:mod:`sysjobs.web.logpages`). Verbs follow the engine's state machine: an illegal one is a
400 naming the status the job is in. Handlers are plain functions (Starlette runs them in
its thread pool) because the engine is synchronous.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from starlette.requests import Request

from sysjobs.host import Host
from sysjobs.jobs import Job
from sysjobs.jobs.engine import Engine
from sysjobs.jobs.ids import is_job_id
from sysjobs.jobs.models import to_ms
from sysjobs.jobs.stats import engine_stats, labelled, series
from sysjobs.jobs.workers import list_workers
from sysjobs.web import params
from sysjobs.web.auth import AuthConfig, bearer, require, require_app
from sysjobs.web.body import Fields, boolean, json_object
from sysjobs.web.errors import ApiError, Reply, bad_parameter
from sysjobs.web.limits import WebLimits
from sysjobs.web.logpages import app_log_page, log_page, size_of
from sysjobs.web.params import Params
from sysjobs.web.views import event_json, job_json, series_json, stats_json

#: The longest throughput window a stats request may ask for (a year).
MAX_WINDOW_S = 365 * 86_400.0
#: Most buckets a series may hold (a day by the minute).
MAX_BUCKETS = 1440
#: The verbs a POST may name, and the engine method of each.
VERB_METHODS = {"stop": "stop", "force-stop": "force_stop", "resume": "resume", "cancel": "cancel",
                "kill": "kill"}
#: Longest comma-separated list of job types or statuses a filter may hold.
MAX_LIST_CHARS = 1000
#: Longest ``message`` substring a logs filter may hold.
MAX_MESSAGE_CHARS = 1000
#: Longest label substring a search may hold (labels are at most 255 characters).
MAX_LABEL_CHARS = 255

_MS = params.timestamp
FIND_CHECKS: dict[str, params.Check] = {
    "type": params.text(MAX_LIST_CHARS, "job types, comma-separated"),
    "status": params.text(MAX_LIST_CHARS, "statuses, comma-separated"),
    "startFrom": _MS, "startTo": _MS, "endFrom": _MS, "endTo": _MS,
    "createFrom": _MS, "createTo": _MS,
    "hasErrors": params.flag,
}  # fmt: skip
LOGS_CHECKS: dict[str, params.Check] = {
    "level": params.text(16, "INFO, ERROR"),
    "message": params.text(MAX_MESSAGE_CHARS, "a substring of the message"),
    "from": _MS, "to": _MS,
    "period": params.period,
    "after": params.cursor,
}  # fmt: skip
#: ``GET /api/app-logs``: the job logs' filters, with the app log's levels.
APP_LOGS_CHECKS: dict[str, params.Check] = {
    **LOGS_CHECKS, "level": params.text(16, "INFO, WARN, ERROR, DEBUG"),
}  # fmt: skip
#: Paging and search of the jobs list, besides the find filters.
PAGE_CHECKS: dict[str, params.Check] = {
    "after": params.job_cursor,
    "label": params.text(MAX_LABEL_CHARS, "a substring of the label (any case)"),
}
#: Reads up to ``n`` jobs after a ``(created ms, id)`` key.
Fetch = Callable[[int, "tuple[int, str] | None"], Iterable[Job]]
LOW_PRIORITY = Fields({"lowPriority": boolean}, {})


#: The header that picks the app a request is about (the dashboard's app switcher).
APP_HEADER = "x-sysjobs-app"


def host_of(request: Request) -> Host:
    """The host of the app the request is about: the ``X-Sysjobs-App`` header's (an app
    key), else an app token's own app, else the dashboard's first app. An unknown app is
    404; another app than an app token's is 403 (:func:`~sysjobs.web.auth.require_app`)."""
    hosts: Mapping[str, Host] = request.app.state.hosts
    auth: AuthConfig = request.app.state.auth
    key = request.headers.get(APP_HEADER) or auth.app_of(bearer(request)) or next(iter(hosts))
    require_app(request, key)
    host = hosts.get(key)
    if host is None:
        raise ApiError(404, "notFound", f"No app {key[:100]!r} on this dashboard")
    return host


def apps_list(request: Request) -> Reply:
    """GET /api/apps — the apps this token reaches (an app token: its own), for the
    dashboard's app switcher; send one's key as ``X-Sysjobs-App`` to see its jobs."""
    require(request)
    hosts: Mapping[str, Host] = request.app.state.hosts
    auth: AuthConfig = request.app.state.auth
    own = auth.app_of(bearer(request))
    return Reply({"apps": [key for key in hosts if own is None or key == own]})


def limits_of(request: Request) -> WebLimits:
    """The app's caps."""
    limits: WebLimits = request.app.state.limits
    return limits


def job_id_of(request: Request) -> str:
    """The path's job id, checked before anything looks it up."""
    job_id: str = request.path_params["job_id"]
    if not is_job_id(job_id):
        raise bad_parameter("jobId", job_id, "a job id of 24 lowercase hexadecimal characters")
    return job_id


def list_jobs(request: Request) -> Reply:
    """GET /api/jobs — newest first, filtered by the spec's find parameters, or the jobs
    whose label contains ``label``; ``after`` (the reply's ``next``) reads the next page."""
    require(request)
    limits = limits_of(request)
    checks = {**FIND_CHECKS, **PAGE_CHECKS, "_size": params.size(limits.max_jobs_page)}
    query: dict[str, Any] = Params(checks).parse(request)
    size: int = query.pop("_size", limits.jobs_page)
    after: tuple[int, str] | None = query.pop("after", None)
    label: str | None = query.pop("label", None)
    engine = host_of(request).engine
    if label is not None and query:
        raise ApiError(400, "badRequest", "Parameter 'label' searches on its own. "
                       f"Allowed with it: after, _size (not {', '.join(query)})")  # fmt: skip
    fetch, count = _source(engine, query, label)
    jobs = list(_listed(engine, fetch, size + 1, after, limits))
    last = jobs[size - 1] if len(jobs) > size else None
    next_key = None if last is None else f"{last['createdAt']}:{last['id']}"
    return Reply({"count": count, "jobs": jobs[:size], "next": next_key})


def _source(engine: Engine, query: dict[str, Any], label: str | None) -> tuple[Fetch, int]:
    """How to read the list's pages, and how many jobs it holds in all."""
    if label is not None:

        def by_label(n: int, key: tuple[int, str] | None) -> Iterable[Job]:
            return labelled(engine, label, n, key)

        return by_label, labelled(engine, label, 1).count()

    def found(n: int, key: tuple[int, str] | None) -> Iterable[Job]:
        return engine.find({**query, "_size": n}, after=key)

    return found, engine.find(query).count()


def _listed(engine: Engine, fetch: Fetch, size: int, after: tuple[int, str] | None,
            limits: WebLimits) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Up to ``size`` jobs as the list shows them, read a few rows at a time (a job's
    results may weigh a megabyte) with ``data``/``results`` clipped past the list's bound;
    each batch's tree (parents, roots, children counts) in one read."""
    while size > 0:
        batch = list(fetch(min(limits.jobs_fetch, size), after))
        trees = engine.tree_info(batch)
        for job in batch:
            yield _clipped(job_json(job, trees[job.id]), limits.list_field_bytes)
        if len(batch) < min(limits.jobs_fetch, size):
            return
        size -= len(batch)
        after = (to_ms(batch[-1].created_at) or 0, batch[-1].id)


def _clipped(job: dict[str, Any], limit: int) -> dict[str, Any]:
    for field in ("data", "results"):
        weight = size_of(job[field])
        if weight > limit:
            job[field] = {"clipped": True, "bytes": weight}
    return job


def shown(engine: Engine, job: Job) -> dict[str, Any]:
    """One job as the API shows it, with its tree."""
    return job_json(job, engine.tree_info([job])[job.id])


def tree_jobs(request: Request) -> Reply:
    """GET /api/jobs/{id}/children — a page of the job's direct children, newest first;
    with ``tree=true`` every job of the tree of a root job. ``after`` (the reply's
    ``next``) reads the next page."""
    require(request)
    limits = limits_of(request)
    checks = {"after": params.job_cursor, "tree": params.flag,
              "_size": params.size(limits.max_jobs_page)}  # fmt: skip
    query: dict[str, Any] = Params(checks).parse(request)
    size: int = query.get("_size", limits.jobs_page)
    engine = host_of(request).engine
    found, total = engine.tree_jobs(job_id_of(request), children_only=query.get("tree") != "true",
                                    size=size + 1, after=query.get("after"))  # fmt: skip
    page = found[:size]
    trees = engine.tree_info(page)
    jobs = [_clipped(job_json(j, trees[j.id]), limits.list_field_bytes) for j in page]
    last = page[-1] if len(found) > size else None
    next_key = None if last is None else f"{to_ms(last.created_at)}:{last.id}"
    return Reply({"count": total, "jobs": jobs, "next": next_key})


def show_job(request: Request) -> Reply:
    """GET /api/jobs/{id} — the job, plus its transitions."""
    require(request)
    params.NONE.parse(request)
    engine = host_of(request).engine
    job = engine.require(job_id_of(request))
    events = [event_json(e) for e in engine.events(job.id)]
    return Reply({**shown(engine, job), "events": events})


def job_logs(request: Request) -> Reply:
    """GET /api/jobs/{id}/logs — one page of the log, filtered like ``logs``; the reply's
    ``next`` goes back as ``after`` for the next page (or for following), ``more`` says
    whether lines past this page exist."""
    require(request)
    limits = limits_of(request)
    checks = {**LOGS_CHECKS, "_size": params.size(limits.max_logs_page)}
    query: dict[str, Any] = Params(checks).parse(request)
    after = query.pop("after", None)
    size = query.pop("_size", limits.logs_page)
    engine = host_of(request).engine
    page = log_page(engine, job_id_of(request), query, after=after, size=size, limits=limits)
    return Reply(page)


def app_logs(request: Request) -> Reply:
    """GET /api/app-logs — one page of the app's own log (``sys.logs``), filtered by
    ``level``, ``message``, ``from``/``to``/``period``, paged like a job's log (``after``
    = the reply's ``next``)."""
    require(request)
    limits = limits_of(request)
    checks = {**APP_LOGS_CHECKS, "_size": params.size(limits.max_logs_page)}
    query: dict[str, Any] = Params(checks).parse(request)
    after = query.pop("after", None)
    size = query.pop("_size", limits.logs_page)
    page = app_log_page(host_of(request).engine, query, after=after, size=size, limits=limits)
    return Reply(page)


def job_verb(request: Request) -> Reply:
    """POST /api/jobs/{id}/{verb} — stop, force-stop, resume, cancel or kill (admin only)."""
    require(request, write=True)
    params.NONE.parse(request)
    verb = request.path_params["verb"]
    if verb not in VERB_METHODS:
        raise ApiError(404, "notFound", f"Unknown action {verb[:60]!r}. "
                       f"Allowed: {', '.join(VERB_METHODS)}")  # fmt: skip
    engine = host_of(request).engine
    job = getattr(engine, VERB_METHODS[verb])(job_id_of(request))
    return Reply(shown(engine, job))


async def low_priority(request: Request) -> Reply:
    """POST /api/jobs/{id}/low-priority ``{"lowPriority": true|false}`` (PENDING/STOPPED)."""
    require(request, write=True)
    params.NONE.parse(request)
    flag: bool = LOW_PRIORITY.parse(await json_object(request))["lowPriority"]
    engine = host_of(request).engine
    return Reply(shown(engine, engine.change_priority(job_id_of(request), flag)))


def stats(request: Request) -> Reply:
    """GET /api/stats — queue depth, oldest pending age, running, throughput, lost leases,
    and the workers serving the app (as ``sysjobs jobs stats --json``)."""
    require(request)
    query = Params({"window": params.seconds(MAX_WINDOW_S)}).parse(request)
    window_s: float = query.get("window", 3600.0)
    engine = host_of(request).engine
    return Reply(stats_json(engine_stats(engine, window_s), list_workers(engine, engine.app)))


def stats_series(request: Request) -> Reply:
    """GET /api/stats/series — jobs enqueued and finished and the queue depth per ``step``
    seconds over ``window`` seconds (the dashboard's charts)."""
    require(request)
    checks = {"window": params.seconds(MAX_WINDOW_S), "step": params.seconds(MAX_WINDOW_S)}
    query = Params(checks).parse(request)
    window_s: float = query.get("window", 3600.0)
    step_s: float = query.get("step", 60.0)
    if step_s < 1 or window_s / step_s > MAX_BUCKETS:
        low = max(1.0, window_s / MAX_BUCKETS)
        raise bad_parameter("step", request.query_params.get("step", ""),
                            f"seconds from {low:g} to {MAX_WINDOW_S:.0f}: at most "
                            f"{MAX_BUCKETS} buckets in the window")  # fmt: skip
    return Reply(series_json(series(host_of(request).engine, window_s, step_s)))


def whoami(request: Request) -> Reply:
    """GET /api/me — the caller's role, so the pages can disable what it may not do; an app's
    token also names its ``app`` (it reaches no other: no every-app views for it)."""
    role = require(request)
    params.NONE.parse(request)
    auth: AuthConfig = request.app.state.auth
    own = auth.app_of(bearer(request))
    return Reply({"role": str(role)} if own is None else {"role": str(role), "app": own})
