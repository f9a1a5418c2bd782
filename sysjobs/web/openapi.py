"""The OpenAPI 3.1 document of the dashboard's API, published at ``/api/openapi.json``.

Written out by hand from small tables rather than generated: the API is small, its query
parameters are the spec's own names (``startFrom``, ``_size`` …) which generators mangle,
and a test checks that every route of the app appears here.
"""

from __future__ import annotations

from typing import Any

MS = "(ms since the epoch: ASCII digits, 0 to 2**63-1)"
FIND_PARAMS = {
    "type": "Job types, comma-separated (at most 1000 characters)",
    "status": "Statuses, comma-separated: PENDING, RUNNING, FINISHED, STOPPING, STOPPED, …",
    "startFrom": f"Started at or after {MS}",
    "startTo": f"Started at or before {MS}",
    "endFrom": f"Ended at or after {MS}",
    "endTo": f"Ended at or before {MS}",
    "createFrom": f"Created at or after {MS}",
    "createTo": f"Created at or before {MS}",
    "hasErrors": "true or false",
    "_size": "Maximum number of jobs: 1 to 500 (default 50)",
    "after": "<created ms>:<job id> — the 'next' of the previous reply: the page after it",
    "label": "Jobs whose label contains this text, any case (at most 255 characters); "
    "combines with after and _size only",
}
TREE_PARAMS = {
    "tree": "true: every job of the root job's tree; false (default): direct children",
    "_size": "Maximum number of jobs: 1 to 500 (default 50)",
    "after": "<created ms>:<job id> — the 'next' of the previous reply: the page after it",
}
LOGS_PARAMS = {
    "level": "INFO or ERROR",
    "message": "Case-insensitive substring of the message (at most 1000 characters)",
    "from": f"At or after {MS}; wins over period",
    "to": f"At or before {MS}; wins over period",
    "period": "today, yesterday, or a duration like '2h 30m' (at most 40 characters of ASCII "
    "letters, digits and spaces; numbers of at most 9 digits)",
    "_size": "Lines in this page: 1 to 1000 (default 200); a page also ends before 1 MiB of "
    "lines, and a line over 256 KiB is shown clipped (\"clipped\": true)",
    "after": "<ms>:<log id> — the 'next' of the previous reply: only lines after that one "
    "(to read the next page, or to follow the log)",
}
RULES = (
    "Every parameter is checked where it enters: numbers are ASCII digits only, within their "
    "range; texts have a length cap and hold no NUL or lone surrogate; unknown or repeated "
    "parameters are refused. JSON bodies are at most 1 MiB (413 payloadTooLarge, declared or "
    "counted), hold no NaN/Infinity, no number longer than 40 characters and no lone "
    "surrogate, and only the fields listed. Any bad input is a 400 badRequest naming the "
    "parameter and the allowed values; never a 500."
)
LOG_PAGE = {
    "type": "object",
    "required": ["count", "logs", "next", "more"],
    "properties": {
        "count": {"type": "integer", "description": "Lines matching the filters in all"},
        "logs": {"type": "array", "items": {"type": "object"}},
        "next": {
            "type": ["string", "null"],
            "description": "Pass back as 'after': the position after this page's last line "
            "(the given 'after' when the page is empty)",
        },
        "more": {"type": "boolean", "description": "Whether lines past this page exist now"},
    },
}
WORKERS_PARAMS = {
    "app": "The app key whose workers to list (default: the request's app), or * for every "
    "app; an app's token sees its own app's workers only (403 otherwise), the operator's "
    "tokens (admin, read) any app's",
    "state": "alive or gone",
}
STEP = "Bucket length in seconds (default 60): at least 1, at most 1440 buckets per window"
WINDOW = "Throughput window in seconds: ASCII digits, optional fraction, > 0 and <= 31536000"
ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object"}


def _query(params: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "name": n,
            "in": "query",
            "required": False,
            "description": d,
            "schema": {"type": "string"},
        }
        for n, d in params.items()
    ]


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _op(summary: str, params: list[dict[str, Any]] | None = None, body: bool = False,
        ok: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    ok_content = ok or {"description": "OK", "content": _json(OBJECT)}
    responses: dict[str, Any] = {"200": ok_content}
    for status in ("400", "401", "403", "404"):
        responses[status] = {"description": "Error", "content": _json(ERROR)}
    op: dict[str, Any] = {"summary": summary, "parameters": params or [], "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": _json(OBJECT)}
        responses["413"] = {"description": "Body over 1 MiB", "content": _json(ERROR)}
    return op


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def document() -> dict[str, Any]:
    """The whole document."""
    job = [_path("jobId")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "sysjobs dashboard API", "version": "2", "description": RULES},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/me": {"get": _op("The caller's role (admin or read), and for an app's token "
                                   "its app ({role, app?})")},
            "/api/apps": {"get": _op(
                "The apps this token reaches ({apps: [key]}; an app's token: its own). Every "
                "other route is about one app: the X-Sysjobs-App header's, else an app "
                "token's own, else the dashboard's first; another app than an app token's "
                "is 403, an unknown app 404"
            )},
            "/api/jobs": {
                "get": _op(
                    "Jobs, newest first (the spec's find); a listed job's data or results "
                    'over 8 KiB show as {"clipped": true, "bytes": n} (the job itself has them). '
                    "The reply is {count, jobs, next}: pass next back as after for the next "
                    "page (null: no more jobs)",
                    _query(FIND_PARAMS),
                )
            },
            "/api/jobs/{jobId}": {"get": _op(
                "One job with its transitions and its place in the job tree: parentJob and "
                "rootJob ({id, label} or null), childrenJobsCount, childrenJobsProcessed "
                "(children FINISHED or CANCELED); listed jobs carry these too", job)},
            "/api/jobs/{jobId}/children": {"get": _op(
                "The job's direct children, newest first ({count, jobs, next}: pass next "
                "back as after); with tree=true every job of the tree of a root job "
                "(400 for a job that is not a root)",
                [*job, *_query(TREE_PARAMS)],
            )},
            "/api/app-logs": {
                "get": _op(
                    "One page of the app's own log (sys.logs), oldest first; level is one of "
                    "INFO, WARN, ERROR, DEBUG (page with 'after' = 'next')",
                    _query(LOGS_PARAMS),
                    ok={"description": "A page", "content": _json(LOG_PAGE)},
                )
            },
            "/api/jobs/{jobId}/logs": {
                "get": _op(
                    "One page of a job's logs, oldest first (page with 'after' = 'next')",
                    [*job, *_query(LOGS_PARAMS)],
                    ok={"description": "A page", "content": _json(LOG_PAGE)},
                )
            },
            "/api/jobs/{jobId}/{verb}": {
                "post": _op(
                    "stop, force-stop, resume, cancel or kill (state machine applies; admin "
                    "token). kill ends the job CANCELED now: a running script is terminated "
                    "without a grace period; an ended job gives 400 badRequest naming its status",
                    [*job, _path("verb")],
                )
            },
            "/api/jobs/{jobId}/low-priority": {
                "post": _op("Set low priority: {lowPriority: bool}", job, body=True)
            },
            "/api/stats": {"get": _op("Queue statistics", _query({"window": WINDOW}))},
            "/api/stats/series": {
                "get": _op(
                    "Jobs enqueued and finished and the queue depth per step over the "
                    "window: {stepS, atMs[], enqueued[], finished[], depth[]}",
                    _query({"window": WINDOW, "step": STEP}),
                )
            },
            "/api/workers": {
                "get": _op(
                    "The workers registry: {app, goneAfterLeases, count, workers[]}, each with "
                    "id, host, pid, slots, busy, jobIds, queues, apps, leaseS, startedAt, "
                    "lastSeenAt, lastSeenAgoMs and state (alive, or gone: no heartbeat for "
                    "goneAfterLeases lease periods), oldest start first",
                    _query(WORKERS_PARAMS),
                )
            },
            "/api/schedules": {
                "get": _op(
                    "The app's cron schedules: {app, count, schedules[]}, each with name, cron, "
                    "timezone, target (listener:NAME, script:FILE, script:(inline)), enabled, "
                    "state (active, disabled, removed), nextRunAt, lastTickAt, lastRunAt, "
                    "lastJobId and lastJobStatus, by name"
                )
            },
            "/api/scripts": {
                "post": _op(
                    "Run a script {source (<= 256 Ki characters), inJob?, wait?, timeoutS? "
                    "(0 < s <= 300), label? (<= 200 characters)}; with inJob and wait, the "
                    "reply holds the first page of the job's log (count, logs, next, more). "
                    "429 limitExceeded when the app already holds its most script requests "
                    "at once (running, or waiting for its console or its job)",
                    body=True,
                )
            },
            "/api/files/{fileId}/download": {
                "get": _op(
                    "Download a file (a job's fileLink). The link holds no secret: send the "
                    "admin token in the Authorization header. The read token gets 403 (files "
                    "hold exported records and users); no token 401",
                    [_path("fileId")],
                    ok={"description": "The file", "content": {"text/csv": {}}},
                )
            },
            "/api/openapi.json": {"get": _op("This document")},
        },
    }
