"""The ``period`` of a logs query: ``today``, ``yesterday``, or a duration like ``2h 30m``.

``today`` and ``yesterday`` are calendar days in the host's local time zone (a person reading
logs means *their* day); a duration means "the last X until now". Units: ``d``, ``h``, ``m``,
``s`` — each at most once, largest first, separated by optional spaces.

The text comes from a script and is read while the host holds the GIL, so reading it must
cost time linear in its length: a hand-written scanner (one pass, no backtracking regex),
after a length cap of :data:`MAX_CHARS`. A duration longer than a JavaScript ``Date`` can
reach (:data:`~sysjobs.jobs.values.MAX_MS`) is refused rather than overflowing a column.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sysjobs.errors import BadRequest
from sysjobs.jobs.values import MAX_MS, bad

ALLOWED = "today, yesterday, or a duration like '2h 30m', '10m', '1d' (units: d, h, m, s)"
#: Characters a period may have (``'1000d 23h 59m 59s'`` is 17).
MAX_CHARS = 64
_UNITS = "dhms"
_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}


def bad_period(value: object) -> BadRequest:
    """The error for a period we cannot read."""
    return bad("period", value, ALLOWED)


def duration_ms(text: str) -> int:
    """Milliseconds of a duration like ``2h 30m``; ``BadRequest`` when malformed or zero."""
    _check_length(text)
    parts = _scan(text.lower())
    if parts is None or not parts:
        raise bad_period(text)
    total = sum(n * _UNIT_MS[u] for n, u in parts)
    if not 0 < total <= MAX_MS:
        raise bad_period(text)
    return total


def _check_length(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise bad("period", text, f"{ALLOWED}; at most {MAX_CHARS} characters")


def _scan(text: str) -> list[tuple[int, str]] | None:
    """``[(number, unit), …]`` in the order written, or None when malformed (one pass)."""
    parts: list[tuple[int, str]] = []
    i, n, next_unit = 0, len(text), 0
    while True:
        i = _skip_spaces(text, i)
        if i == n:
            return parts
        start = i
        while i < n and "0" <= text[i] <= "9":
            i += 1
        if i == start:
            return None
        number = int(text[start:i])
        i = _skip_spaces(text, i)
        unit = _UNITS.find(text[i]) if i < n else -1
        if unit < next_unit:  # not a unit, or one out of order / repeated
            return None
        parts.append((number, _UNITS[unit]))
        i, next_unit = i + 1, unit + 1


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def period_range(value: object, now_ms: int, tz: tzinfo | None = None) -> tuple[int, int]:
    """The inclusive millisecond range ``[from, to]`` a period names, relative to ``now_ms``."""
    if not isinstance(value, str) or not value.strip():
        raise bad_period(value)
    _check_length(value)
    word = value.strip().lower()
    if word in ("today", "yesterday"):
        now = datetime.fromtimestamp(now_ms / 1000, tz=tz).astimezone(tz)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start_today = int(midnight.timestamp() * 1000)
        if word == "today":
            return start_today, now_ms
        start_yesterday = int((midnight - timedelta(days=1)).timestamp() * 1000)
        return start_yesterday, start_today - 1
    return now_ms - duration_ms(word), now_ms
