"""The ``find`` and ``logs`` query maps: parsed once into frozen models, with exact errors.

Scripts hand in loose maps (``{status: 'FINISHED', hasErrors: 'true', _size: 10}``); every
key is checked here and any unknown key, wrong type, bad value or inverted range becomes a
``BadRequest`` naming the parameter, the value and what is allowed. Past this point the
engine works with typed, validated values only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from sysjobs.errors import BadRequest
from sysjobs.jobs import periods
from sysjobs.jobs.status import ALL_STATUSES

FIND_KEYS = (
    "type", "status", "startFrom", "startTo", "endFrom", "endTo",
    "createFrom", "createTo", "hasErrors", "_size",
)  # fmt: skip
LOGS_KEYS = ("level", "message", "from", "to", "period", "_size")
LEVELS = ("INFO", "ERROR")
Range = tuple[int | None, int | None]


class FindQuery(BaseModel):
    """A validated ``find`` query; empty tuples and None mean "any"."""

    model_config = ConfigDict(frozen=True)

    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    created: Range = (None, None)
    started: Range = (None, None)
    ended: Range = (None, None)
    has_errors: bool | None = None
    size: int | None = None

    @classmethod
    def parse(cls, query: object, job_types: Collection[str]) -> FindQuery:
        """Validate a script's map; ``job_types`` are the type names ``type`` may use."""
        q = _as_map(query, FIND_KEYS)
        return cls(
            types=_csv(q, "type", sorted(job_types)),
            statuses=_csv(q, "status", ALL_STATUSES),
            created=_range(q, "createFrom", "createTo"),
            started=_range(q, "startFrom", "startTo"),
            ended=_range(q, "endFrom", "endTo"),
            has_errors=_bool(q, "hasErrors"),
            size=_size(q),
        )


class LogsQuery(BaseModel):
    """A validated ``logs`` query: ``from``/``to`` win over ``period``."""

    model_config = ConfigDict(frozen=True)

    level: str | None = None
    message: str | None = None
    ts: Range = (None, None)
    size: int | None = None

    @classmethod
    def parse(cls, query: object, now_ms: int) -> LogsQuery:
        """Validate a script's map; ``period`` is resolved against ``now_ms``."""
        q = _as_map(query, LOGS_KEYS)
        levels = _csv(q, "level", LEVELS)
        if len(levels) > 1:
            raise _bad("level", q["level"], "INFO, ERROR (one of them)")
        message = q.get("message")
        if message is not None and (not isinstance(message, str) or "\x00" in message):
            raise _bad("message", message, "a string without NUL characters")
        ts = _range(q, "from", "to")
        if ts == (None, None) and q.get("period") is not None:
            ts = periods.period_range(q["period"], now_ms)
        return cls(level=levels[0] if levels else None, message=message, ts=ts, size=_size(q))


def _bad(parameter: str, value: object, allowed: str) -> BadRequest:
    return BadRequest(
        f"Invalid value {value!r} for parameter '{parameter}'. Allowed values: {allowed}"
    )


def _as_map(query: object, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if query is None:
        return {}
    if not isinstance(query, Mapping):
        raise BadRequest(f"Invalid query {query!r}: expected an object with keys {', '.join(keys)}")
    for key in query:
        if key not in keys:
            raise BadRequest(f"Unknown parameter {key!r}. Allowed parameters: {', '.join(keys)}")
    return {k: v for k, v in query.items() if v is not None}


def _csv(q: Mapping[str, Any], name: str, allowed: Collection[str]) -> tuple[str, ...]:
    """Comma-separated (or a list of) values, each one of ``allowed``."""
    raw = q.get(name)
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise _bad(name, raw, ", ".join(allowed))
    values = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    for value in values or ("",):
        if value not in allowed:
            raise _bad(name, value, ", ".join(allowed))
    return values


def _ms(q: Mapping[str, Any], name: str) -> int | None:
    """A millisecond timestamp: a non-negative integer (or a string of digits)."""
    raw = q.get(name)
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise _bad(name, raw, "a timestamp in milliseconds since the epoch (integer >= 0)")
    return raw


def _range(q: Mapping[str, Any], low: str, high: str) -> Range:
    start, end = _ms(q, low), _ms(q, high)
    if start is not None and end is not None and start > end:
        raise BadRequest(
            f"Invalid range: '{low}' ({start}) is after '{high}' ({end}). "
            f"'{low}' must be less than or equal to '{high}'"
        )
    return start, end


def _bool(q: Mapping[str, Any], name: str) -> bool | None:
    raw = q.get(name)
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise _bad(name, raw, "true, false (a boolean or the strings 'true'/'false')")


def _size(q: Mapping[str, Any]) -> int | None:
    raw = q.get("_size")
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise _bad("_size", raw, "a positive integer")
    return raw
