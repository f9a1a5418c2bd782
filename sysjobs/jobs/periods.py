"""The ``period`` of a logs query: ``today``, ``yesterday``, or a duration like ``2h 30m``.

``today`` and ``yesterday`` are calendar days in the host's local time zone (a person reading
logs means *their* day); a duration means "the last X until now". Units: ``d``, ``h``, ``m``,
``s`` — each at most once, largest first, separated by optional spaces.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from sysjobs.errors import BadRequest

ALLOWED = "today, yesterday, or a duration like '2h 30m', '10m', '1d' (units: d, h, m, s)"
_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}
_DURATION = re.compile(r"\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*\Z")


def bad_period(value: object) -> BadRequest:
    """The error for a period we cannot read."""
    return BadRequest(f"Invalid value {value!r} for parameter 'period'. Allowed values: {ALLOWED}")


def duration_ms(text: str) -> int:
    """Milliseconds of a duration like ``2h 30m``; ``BadRequest`` when malformed or zero."""
    match = _DURATION.match(text.lower())
    if match is None or not any(match.groups()):
        raise bad_period(text)
    total = sum(int(n) * _UNIT_MS[u] for n, u in zip(match.groups(), "dhms", strict=True) if n)
    if total <= 0:
        raise bad_period(text)
    return total


def period_range(value: object, now_ms: int, tz: tzinfo | None = None) -> tuple[int, int]:
    """The inclusive millisecond range ``[from, to]`` a period names, relative to ``now_ms``."""
    if not isinstance(value, str) or not value.strip():
        raise bad_period(value)
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
