"""Request bodies: capped while they stream in, parsed strictly, each field checked.

:class:`BodyLimit` wraps the whole app. A declared ``Content-Length`` over the cap is
answered 413 before a byte of the body is read; a body without one (chunked) is counted as
it arrives and refused the moment it passes the cap — the server never holds more than the
cap of any request, whatever the client sends.

:func:`json_object` accepts only what JSON can say exactly: no ``NaN``/``Infinity``, no
number written with more than 40 characters (nor one that overflows a float), no lone
surrogate (``"\\ud800"``) in any string or key. :class:`Fields` then checks each field of
the object — type, length, range — and refuses unknown ones, every error a 400
``badRequest`` naming the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sysjobs.web.errors import ApiError, bad_parameter, echo, error_response, too_large

#: The largest request body the dashboard reads (a console script with room to spare).
MAX_BODY_BYTES = 1024 * 1024
#: Longest number the body may write (room for every 64-bit integer and any usual decimal;
#: each field then checks its own range).
MAX_NUMBER_CHARS = 40
_SURROGATES = range(0xD800, 0xE000)


class BodyLimit:
    """ASGI middleware: 413 for a body over ``max_bytes``, declared or counted."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_declared(scope, self.max_bytes)
        except ApiError as error:
            response = error_response(error.status, error.code, error.message)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        return counted


def _check_declared(scope: Scope, max_bytes: int) -> None:
    """413 when the declared ``Content-Length`` passes ``max_bytes``; 400 when it is not
    ASCII digits (HTTP servers refuse those first; this keeps the rule behind any server)."""
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            if not value.isdigit() or len(value) > 19:
                raise ApiError(400, "badRequest", "Invalid Content-Length header. Allowed: "
                               "a number of bytes (ASCII digits)")  # fmt: skip
            if int(value) > max_bytes:
                raise too_large(max_bytes)


def _number(kind: Callable[[str], int | float]) -> Callable[[str], int | float]:
    def parse(raw: str) -> int | float:
        value = kind(raw) if len(raw) <= MAX_NUMBER_CHARS else math.inf
        if isinstance(value, float) and not math.isfinite(value):
            raise ApiError(400, "badRequest", f"The body holds the number {raw[:50]}"
                           f"{'…' if len(raw) > 50 else ''}, too large. Allowed: numbers of "
                           f"at most {MAX_NUMBER_CHARS} characters")  # fmt: skip
        return value

    return parse


def _constant(raw: str) -> float:
    message = f"The body holds {raw}. Allowed: JSON numbers only (no NaN or Infinity)"
    raise ApiError(400, "badRequest", message)


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``), or a 400 saying what is wrong."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}", parse_constant=_constant,
                          parse_int=_number(int), parse_float=_number(float))  # fmt: skip
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        message = f"The body is not valid JSON ({where}). Allowed: a JSON object"
        raise ApiError(400, "badRequest", message) from None
    except UnicodeDecodeError:
        raise ApiError(400, "badRequest", "The body is not valid JSON: it is not UTF-8. "
                       "Allowed: a JSON object in UTF-8") from None  # fmt: skip
    except RecursionError:
        raise ApiError(400, "badRequest", "The body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "badRequest", "The body must be a JSON object")
    for key, value in body.items():
        if _has_lone_surrogate(key):
            raise ApiError(400, "badRequest", f"The field name {echo(key)} holds a lone "
                           "surrogate. Allowed: text without unpaired \\ud800-\\udfff")  # fmt: skip
        if _has_lone_surrogate(value):
            allowed = "text without lone surrogates (unpaired \\ud800-\\udfff)"
            raise bad_parameter(_short(key), value, allowed)
    return body


def _has_lone_surrogate(value: object) -> bool:
    """Whether any string or key inside ``value`` holds a lone surrogate (iterative: a body
    nested as deep as the parser allows does not exhaust the stack here)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any(ord(c) in _SURROGATES for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


#: A field checker: (field name, value) -> the value the handler uses.
FieldCheck = Callable[[str, Any], Any]


def boolean(name: str, value: Any) -> bool:
    """``true`` or ``false`` (JSON booleans, not strings or numbers)."""
    if not isinstance(value, bool):
        raise bad_parameter(name, value, "true, false")
    return value


def string(max_chars: int, allowed: str, *, blank: bool = True) -> FieldCheck:
    """A JSON string of at most ``max_chars`` characters, without NUL; ``blank=False``
    refuses one that is only whitespace."""

    def check(name: str, value: Any) -> str:
        ok = isinstance(value, str) and len(value) <= max_chars and "\x00" not in value
        if not ok or (not blank and not str(value).strip()):
            raise bad_parameter(name, value, f"{allowed}; at most {max_chars} characters, no NUL")
        return str(value)

    return check


def number(low: float, high: float, allowed: str) -> FieldCheck:
    """A JSON number with ``low < value <= high`` (not a boolean)."""

    def check(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise bad_parameter(name, value, allowed)
        return float(value)

    return check


@dataclass(frozen=True)
class Fields:
    """The fields a body may hold, each with its checker and its default; a field without a
    default is required (its checker sees None and refuses it, naming the field)."""

    checks: Mapping[str, FieldCheck]
    defaults: Mapping[str, Any]

    def parse(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Every field of the route, checked; 400 for an unknown, missing or bad one."""
        for name in body:
            if name not in self.checks:
                raise ApiError(400, "badRequest", f"Unknown field {echo(name)}. "
                               f"Allowed fields: {', '.join(self.checks)}")  # fmt: skip
        return {name: check(name, body.get(name, self.defaults.get(name)))
                for name, check in self.checks.items()}  # fmt: skip


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[:limit] + "…"
