"""The ``find`` and ``logs`` query maps: parsed once into frozen models, with exact errors.

Scripts hand in loose maps (``{status: 'FINISHED', hasErrors: 'true', _size: 10}``); every
key is checked here and any unknown key, wrong type, bad value or inverted range becomes a
``BadRequest`` naming the parameter, the value and what is allowed. Past this point the
engine works with typed, validated values only.

Rules (from :mod:`sysjobs.jobs.values`): times are whole milliseconds from 0 to
``MAX_MS`` (``NaN``, ``Infinity``, ``1e20`` → ``BadRequest``, never a dropped filter);
``_size`` is a whole number from 1 to 2^63-1; ``message`` is a ``LIKE`` pattern, so it is
capped at ``MAX_PATTERN_CHARS`` and refuses NUL and lone surrogates (it is looked for in
each line's first ``SEARCHED_CHARS`` characters, ``sysjobs/store/search.py``); ``period`` is read in
linear time (:mod:`sysjobs.jobs.periods`). Every value is quoted back as the script wrote it,
never in Python's spelling.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from sysjobs.errors import BadRequest
from sysjobs.jobs import periods
from sysjobs.jobs.status import ALL_STATUSES
from sysjobs.jobs.values import INT64_MAX, bad, check_int, check_ms, check_pattern, shown

FIND_KEYS = (
    "type", "status", "startFrom", "startTo", "endFrom", "endTo",
    "createFrom", "createTo", "hasErrors", "_size",
)  # fmt: skip
LOGS_KEYS = ("level", "message", "from", "to", "period", "_size")
LEVELS = ("INFO", "ERROR")
#: The levels of the app's own log (``sys.logs``), which a job's log does not have.
APP_LOG_LEVELS = ("INFO", "WARN", "ERROR", "DEBUG")
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
    def parse(
        cls, query: object, now_ms: int, allowed_levels: tuple[str, ...] = LEVELS
    ) -> LogsQuery:
        """Validate a script's map; ``period`` is resolved against ``now_ms``. A job's log
        has :data:`LEVELS`, the app's log :data:`APP_LOG_LEVELS`."""
        q = _as_map(query, LOGS_KEYS)
        levels = _csv(q, "level", allowed_levels)
        if len(levels) > 1:
            raise bad("level", q["level"], f"{', '.join(allowed_levels)} (one of them)")
        message = q.get("message")
        if message is not None:
            message = check_pattern(message, "message")
        ts = _range(q, "from", "to")
        if ts == (None, None) and q.get("period") is not None:
            ts = periods.period_range(q["period"], now_ms)
        return cls(level=levels[0] if levels else None, message=message, ts=ts, size=_size(q))


def _as_map(query: object, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if query is None:
        return {}
    if not isinstance(query, Mapping):
        raise BadRequest(
            f"Invalid query {shown(query)}: expected an object with keys {', '.join(keys)}"
        )
    for key in query:
        if key not in keys:
            raise BadRequest(
                f"Unknown parameter {shown(key)}. Allowed parameters: {', '.join(keys)}"
            )
    return {k: v for k, v in query.items() if v is not None}


def _csv(q: Mapping[str, Any], name: str, allowed: Collection[str]) -> tuple[str, ...]:
    """Comma-separated (or a list of) values, each one of ``allowed``."""
    raw = q.get(name)
    if raw is None:
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise bad(name, raw, ", ".join(allowed))
    values = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    for value in values or ("",):
        if value not in allowed:
            raise bad(name, value, ", ".join(allowed))
    return values


def _ms(q: Mapping[str, Any], name: str) -> int | None:
    """A millisecond timestamp: a whole number from 0 to MAX_MS (or a string of digits)."""
    raw = q.get(name)
    return None if raw is None else check_ms(raw, name)


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
    raise bad(name, raw, "true, false (a boolean or the strings 'true'/'false')")


def _size(q: Mapping[str, Any]) -> int | None:
    raw = q.get("_size")
    if raw is None:
        return None
    return check_int(raw, "_size", 1, INT64_MAX, f"a positive integer (1 to {INT64_MAX})")
