"""Query parameters, checked where they enter the dashboard, before anything parses them.

Each route declares the parameters it takes and one small checker per parameter. A checker
sees the raw text, bounded first (a length cap before any parsing, so nothing downstream —
the engine's ``period`` parser included — ever gets a long string from HTTP), and returns
the typed value or a 400 ``badRequest`` naming the parameter and the allowed values:

* numbers are ASCII digits only (Arabic-Indic or superscript digits, ``'+1'``, ``' 1'``
  are refused), at most 19 of them, within a 64-bit signed integer and the parameter's own range;
* texts have a length cap and never hold a lone surrogate or a NUL;
* unknown and repeated parameters are refused, naming the ones allowed.

Nothing here knows a job: the values go on to the engine, which validates their meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from sysjobs.web.errors import ApiError, bad_parameter

#: The largest value of a 64-bit signed integer (the databases' BIGINT).
MAX_INT64 = 2**63 - 1
#: Longest timestamp a parameter may hold (19 digits reach every 64-bit value).
MAX_DIGITS = 19
_DIGITS = re.compile(r"[0-9]{1,19}")
_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")
_CURSOR = re.compile(r"([0-9]{1,19}):([0-9]{1,19})")
_JOB_CURSOR = re.compile(r"([0-9]{1,19}):([0-9a-f]{24})")
_PERIOD = re.compile(r"[A-Za-z0-9 ]*")
_LONG_NUMBER = re.compile(r"[0-9]{10}")
_SURROGATE = re.compile("[\ud800-\udfff]")

#: A checker: (parameter name, raw text) -> the value the handler uses.
Check = Callable[[str, str], Any]


def _number(name: str, raw: str, low: int, high: int, allowed: str) -> int:
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise bad_parameter(name, raw, allowed)
    return int(raw)


def timestamp(name: str, raw: str) -> int:
    """Milliseconds since the epoch: ASCII digits, 0 … 2**63-1."""
    return _number(name, raw, 0, MAX_INT64,
                   f"milliseconds since the epoch: ASCII digits, 0 to {MAX_INT64}")  # fmt: skip


def size(maximum: int) -> Check:
    """A page size: ASCII digits, 1 … ``maximum``."""

    def check(name: str, raw: str) -> int:
        return _number(name, raw, 1, maximum, f"an integer from 1 to {maximum} (ASCII digits)")

    return check


def text(max_chars: int, allowed: str) -> Check:
    """A string of at most ``max_chars`` characters, without NUL or lone surrogates."""

    def check(name: str, raw: str) -> str:
        if len(raw) > max_chars or "\x00" in raw or _SURROGATE.search(raw):
            raise bad_parameter(name, raw, f"{allowed}; at most {max_chars} characters, no NUL")
        return raw

    return check


def flag(name: str, raw: str) -> str:
    """``true`` or ``false``, any case."""
    if raw.strip().lower() not in ("true", "false"):
        raise bad_parameter(name, raw, "true, false")
    return raw.strip().lower()


def seconds(maximum: float) -> Check:
    """A positive number of seconds written in ASCII (``3600``, ``0.5``), at most ``maximum``."""

    def check(name: str, raw: str) -> float:
        value = float(raw) if _SECONDS.fullmatch(raw) else -1.0
        if not 0 < value <= maximum:
            raise bad_parameter(name, raw, f"seconds, > 0 and <= {maximum:.0f} (ASCII digits)")
        return value

    return check


def period(name: str, raw: str) -> str:
    """A ``period`` before the engine parses it: at most 40 characters of ASCII letters,
    digits and spaces, each number at most 9 digits (so no duration leaves 64 bits)."""
    if len(raw) > 40 or not _PERIOD.fullmatch(raw) or _LONG_NUMBER.search(raw):
        allowed = ("today, yesterday, or a duration like '2h 30m', '10m', '1d' "
                   "(at most 40 characters, numbers of at most 9 digits)")
        raise bad_parameter(name, raw, allowed)
    return raw


def cursor(name: str, raw: str) -> tuple[int, int]:
    """A log position ``<timestamp ms>:<log id>`` as the API hands it out in ``next``."""
    match = _CURSOR.fullmatch(raw)
    if match is None or max(int(match[1]), int(match[2])) > MAX_INT64:
        raise bad_parameter(name, raw, "<milliseconds>:<log id>, the 'next' of a logs reply")
    return int(match[1]), int(match[2])


def job_cursor(name: str, raw: str) -> tuple[int, str]:
    """A position in the jobs list ``<created ms>:<job id>`` as ``/api/jobs`` hands it out."""
    match = _JOB_CURSOR.fullmatch(raw)
    if match is None or int(match[1]) > MAX_INT64:
        raise bad_parameter(name, raw, "<milliseconds>:<job id>, the 'next' of a jobs reply")
    return int(match[1]), match[2]


@dataclass(frozen=True)
class Params:
    """The parameters a route takes: name -> checker (the order is the one error messages use)."""

    checks: Mapping[str, Check]

    def parse(self, request: Request) -> dict[str, Any]:
        """The request's parameters, each checked; 400 for unknown, repeated or bad ones."""
        values: dict[str, Any] = {}
        for name, raw in request.query_params.multi_items():
            check = self.checks.get(name)
            if check is None:
                raise self.unknown(name)
            if name in values:
                message = f"Parameter '{name}' is given more than once. Allowed: once"
                raise ApiError(400, "badRequest", message)
            values[name] = check(name, raw)
        return values

    def unknown(self, name: str) -> ApiError:
        """The error for a parameter the route does not take."""
        allowed = ", ".join(self.checks) or "none"
        message = f"Unknown parameter {_short(name)!r}. Allowed parameters: {allowed}"
        return ApiError(400, "badRequest", message)


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


NONE = Params({})
