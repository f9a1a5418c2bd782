"""Every failure of the HTTP API is JSON ``{code, message}`` with a fitting status.

Platform errors keep their code (``badRequest`` → 400, ``notFound`` → 404, ``forbidden`` →
403, ``timeout`` → 408); authentication problems are 401/403 raised as :class:`ApiError`.
Anything unexpected is a 500 ``systemException`` carrying a correlation id, while the
traceback goes to the server's log only — a client never sees one.
"""

from __future__ import annotations

import json
import logging
import math
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sysjobs.errors import SysError, code_of

log = logging.getLogger("sysjobs.web")

#: HTTP status for each platform code (anything else is a 400: the request could not be done).
STATUS_OF_CODE = {"notFound": 404, "forbidden": 403, "timeout": 408, "systemException": 500}


class ApiError(Exception):
    """An error the API reports as it is: HTTP status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


#: How much of a rejected value an error message repeats.
MAX_ECHO_CHARS = 100


def bad_parameter(parameter: str, value: object, allowed: str) -> ApiError:
    """A 400 worded like the engine's: the parameter, the value (cut short: a 5,000-digit
    number or a 1 MB string is not sent back whole), what is allowed."""
    return ApiError(
        400, "badRequest",
        f"Invalid value {echo(value)} for parameter '{parameter}'. Allowed values: {allowed}",
    )  # fmt: skip


def echo(value: object) -> str:
    """``repr(value)``, at most :data:`MAX_ECHO_CHARS` characters of it (lone surrogates come
    out escaped, so the message always encodes)."""
    if isinstance(value, str) and len(value) > MAX_ECHO_CHARS:
        return repr(value[:MAX_ECHO_CHARS]) + "…"
    if isinstance(value, list | dict) and len(value) > MAX_ECHO_CHARS:
        return f"<{type(value).__name__} of {len(value)} items>"
    try:
        shown = repr(value)
    except ValueError:  # an int past Python's digit limit
        return f"<a value of type {type(value).__name__} too large to show>"
    return shown if len(shown) <= MAX_ECHO_CHARS else shown[:MAX_ECHO_CHARS] + "…"


def too_large(limit: int) -> ApiError:
    """The 413 for a request body over the cap."""
    return ApiError(413, "payloadTooLarge",
                    f"The request body is too large. Allowed: at most {limit} bytes")  # fmt: skip


class Reply(JSONResponse):
    """A JSON reply that always encodes: a lone surrogate that reached stored data (a job's
    results, a log line) goes out as ``?``, and a NaN or infinity (which JSON cannot say)
    as ``null``, instead of failing the whole reply."""

    def render(self, content: object) -> bytes:
        try:
            text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except ValueError:
            text = json.dumps(_finite(content), ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


def _finite(value: object) -> object:
    """``value`` with every NaN or infinity replaced by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """The one shape of every error body."""
    return Reply({"code": code, "message": message}, status_code=status)


async def on_api_error(_request: Request, exc: Exception) -> Response:
    """Authentication, authorisation and request-shape errors."""
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if exc.status == 413:  # the rest of the body stays unread: the connection cannot go on
        headers = {"Connection": "close"}
    response = error_response(exc.status, exc.code, exc.message)
    if headers:
        response.headers.update(headers)
    return response


async def on_sys_error(_request: Request, exc: Exception) -> Response:
    """Platform errors keep their code and message."""
    assert isinstance(exc, SysError)
    code = code_of(exc)
    return error_response(STATUS_OF_CODE.get(code, 400), code, exc.message)


async def on_http_error(_request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the same shape."""
    assert isinstance(exc, HTTPException)
    code = {404: "notFound", 405: "methodNotAllowed"}.get(exc.status_code, "badRequest")
    return error_response(exc.status_code, code, str(exc.detail))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """Log the traceback with a correlation id; the client gets only the id."""
    correlation = uuid.uuid4().hex[:12]
    log.error("unexpected error %s on %s %s", correlation, request.method, request.url.path,
              exc_info=exc)  # fmt: skip
    return error_response(
        500, "systemException", f"An internal error happened (correlation id {correlation})"
    )
