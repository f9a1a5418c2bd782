"""Field values: one place that turns what a script, a CSV row or a query map says into
the value stored for a field of a given type — or a ``BadRequest`` naming field and value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sysjobs.app.manifest import FieldDef, FieldType
from sysjobs.errors import BadRequest
from sysjobs.jobs.ids import is_job_id
from sysjobs.jobs.values import MAX_DATE_MS, MIN_DATE_MS, shown
from sysjobs.store.record_query import Cast

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}

#: How each field type is compared in the database.
CASTS: dict[FieldType, Cast] = {
    FieldType.NUMBER: Cast.NUMBER,
    FieldType.BOOLEAN: Cast.BOOLEAN,
}


def is_id(value: object) -> bool:
    """Record, user and file ids have a job id's form (``sysjobs.app.ids``): one rule.
    (The former ``^…$`` pattern also took a trailing newline.)"""
    return is_job_id(value)


def coerce(entity: str, name: str, fdef: FieldDef, value: Any) -> Any:
    """The stored form of ``value`` for field ``name``; None for empty."""
    if value is None or value == "":
        return None
    try:
        return _COERCERS[fdef.type](fdef, value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadRequest(
            f"Invalid value {shown(value)} for field '{name}' of entity '{entity}': {exc}"
        ) from exc


def _text(fdef: FieldDef, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a text")
    return str(value)


def _number(fdef: FieldDef, value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("expected a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError("expected a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _boolean(fdef: FieldDef, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def _date(fdef: FieldDef, value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not MIN_DATE_MS <= value <= MAX_DATE_MS:  # also refuses NaN
            raise ValueError(f"expected milliseconds from {MIN_DATE_MS} to {MAX_DATE_MS}")
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date().isoformat()
    if not isinstance(value, str):
        raise ValueError("expected a date as YYYY-MM-DD or milliseconds")
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise ValueError("expected a date as YYYY-MM-DD or milliseconds") from None


def _choice(fdef: FieldDef, value: Any) -> str:
    if value not in fdef.choices:
        raise ValueError(f"allowed values: {', '.join(fdef.choices)}")
    return str(value)


def _ref(fdef: FieldDef, value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    if not is_id(value):
        raise ValueError("expected an id of 24 hexadecimal characters")
    return str(value)


_COERCERS = {
    FieldType.TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date,
    FieldType.CHOICE: _choice,
    FieldType.RELATIONSHIP: _ref,
    FieldType.FILE: _ref,
}
