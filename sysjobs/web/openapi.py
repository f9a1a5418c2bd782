"""The OpenAPI 3.1 document of the dashboard's API, published at ``/api/openapi.json``.

Written out by hand from small tables rather than generated: the API is small, its query
parameters are the spec's own names (``startFrom``, ``_size`` …) which generators mangle,
and a test checks that every route of the app appears here.
"""

from __future__ import annotations

from typing import Any

FIND_PARAMS = {
    "type": "Job types, comma-separated",
    "status": "Statuses, comma-separated: PENDING, RUNNING, FINISHED, STOPPING, STOPPED, …",
    "startFrom": "Started at or after (ms since the epoch)",
    "startTo": "Started at or before (ms)",
    "endFrom": "Ended at or after (ms)",
    "endTo": "Ended at or before (ms)",
    "createFrom": "Created at or after (ms)",
    "createTo": "Created at or before (ms)",
    "hasErrors": "true or false",
    "_size": "Maximum number of jobs (default 50)",
}
LOGS_PARAMS = {
    "level": "INFO or ERROR",
    "message": "Case-insensitive substring of the message",
    "from": "At or after (ms); wins over period",
    "to": "At or before (ms); wins over period",
    "period": "today, yesterday, or a duration like '2h 30m'",
    "_size": "Maximum number of lines",
    "after": "<ms>:<log id> — only lines after this one (for following)",
}
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
        secured: bool = True) -> dict[str, Any]:  # fmt: skip
    responses: dict[str, Any] = {"200": {"description": "OK", "content": _json(OBJECT)}}
    for status in ("400", "401", "403", "404"):
        responses[status] = {"description": "Error", "content": _json(ERROR)}
    op: dict[str, Any] = {"summary": summary, "parameters": params or [], "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": _json(OBJECT)}
    if not secured:
        op["security"] = []
    return op


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def document() -> dict[str, Any]:
    """The whole document."""
    job = [_path("jobId")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "sysjobs dashboard API", "version": "1"},
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
            "/api/me": {"get": _op("The caller's role (admin or read)")},
            "/api/jobs": {"get": _op("Jobs, newest first (the spec's find)", _query(FIND_PARAMS))},
            "/api/jobs/{jobId}": {"get": _op("One job with its transitions", job)},
            "/api/jobs/{jobId}/logs": {
                "get": _op("A job's logs, oldest first", [*job, *_query(LOGS_PARAMS)])
            },
            "/api/jobs/{jobId}/{verb}": {
                "post": _op(
                    "stop, force-stop, resume or cancel (state machine applies)",
                    [*job, _path("verb")],
                )
            },
            "/api/jobs/{jobId}/low-priority": {
                "post": _op("Set low priority: {lowPriority: bool}", job, body=True)
            },
            "/api/stats": {"get": _op("Queue statistics", _query({"window": "Seconds"}))},
            "/api/scripts": {
                "post": _op("Run a script {source, inJob?, wait?, timeoutS?, label?}", body=True)
            },
            "/api/files/{fileId}/download": {
                "get": _op(
                    "Download an export (its link's token)",
                    [_path("fileId"), *_query({"token": "The link's token"})],
                    secured=False,
                )
            },
            "/api/openapi.json": {"get": _op("This document", secured=False)},
        },
    }
