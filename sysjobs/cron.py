"""Cron expressions in a time zone: when a schedule's ticks fall, in milliseconds (UTC).

The expressions are croniter's (docs/schedules.md says why that library): five fields
``minute hour day-of-month month day-of-week`` or one of the macros ``@hourly``,
``@daily``/``@midnight``, ``@weekly``, ``@monthly``, ``@yearly``/``@annually``, read in
an IANA time zone (``zoneinfo``). Seconds and years (croniter's six- and seven-field forms)
are refused: a schedule starts a job, and a job a second is a queue, not a schedule.

What happens where the zone's clock jumps is croniter's rule, kept as is and written in
docs/schedules.md: a local time that does not exist (the spring gap) runs once at the first
instant after the gap; a local time that happens twice (the autumn overlap) runs at both
instants. Every tick is a distinct instant, so "one job per tick" still holds.

This module imports neither the engine nor the database: the manifest (which a script's
child process reads) validates schedules with it, and the engine computes ticks with it.
croniter is imported where a tick or an expression is computed: the engine's import (every
read command's) carries this module but never asks it for a tick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The macros accepted besides five fields.
MACROS = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
#: Longest expression accepted (a real one is a few dozen characters).
MAX_EXPRESSION_CHARS = 200
#: What an IANA zone name looks like; anything else is refused before zoneinfo reads a file.
_ZONE_FORM = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
#: Names in a host's zoneinfo folder that are that host's settings or copies, not IANA zones:
#: ``localtime`` (the machine's own zone), ``posixrules`` (a distribution's choice), and the
#: ``posix/`` and ``right/`` trees some distributions ship. Ticks must mean the same instant
#: on every worker, and a manifest must load on each of them.
_HOST_ZONES = ("localtime", "posixrules")
_HOST_ZONE_TREES = ("posix/", "right/")
_FIELD_CHARS = re.compile(r"^[A-Za-z0-9*,/\-#?LW ]+$")
#: Years croniter searches for a next tick before saying there is none (``0 0 31 2 *``).
_SEARCH_YEARS = 8
#: Steps taken to get past ``after`` when a zone's jump hands back an earlier instant.
_MAX_STEPS = 16
#: The last second (in ms) a calendar date holds (9999-12-31T23:59:59Z): no tick after it.
LAST_MS = 253_402_300_799_000
_YEAR_MS = 366 * 86_400_000
#: The allowed forms, as an error message states them.
ALLOWED_EXPRESSIONS = (
    "five fields 'minute hour day-of-month month day-of-week' (e.g. '0 2 * * *') "
    f"or one of {', '.join(MACROS)}"
)
ALLOWED_ZONES = "an IANA time zone name such as 'UTC' or 'Europe/Paris'"


@dataclass(frozen=True)
class Cron:
    """A validated cron expression and the zone its fields are read in."""

    expression: str
    timezone: str

    @classmethod
    def parse(cls, expression: object, timezone: object = "UTC") -> Cron:
        """The expression in ``timezone``, else ``ValueError`` saying what is wrong and
        what is allowed (the caller names the schedule and the key)."""
        cron = cls(check_expression(expression), check_timezone(timezone))
        cron.next_after(0)  # one that never matches (``0 0 31 2 *``) is refused here
        return cron

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_after(self, after_ms: int) -> int | None:
        """The first tick strictly after ``after_ms`` (ms since the epoch, UTC); None when
        none falls before :data:`LAST_MS` (a clock near the end of year 9999)."""
        if after_ms >= LAST_MS:
            return None
        from croniter import CroniterBadDateError, croniter  # on use: a read never ticks

        try:
            start = datetime.fromtimestamp(after_ms // 1000, UTC).astimezone(self.zone)
            ticks = croniter(self.expression, start, max_years_between_matches=_SEARCH_YEARS)
            for _ in range(_MAX_STEPS):
                found = int(ticks.get_next(datetime).timestamp()) * 1000
                if found > LAST_MS:
                    return None
                if found > after_ms:
                    return found
        except CroniterBadDateError as exc:
            if after_ms >= LAST_MS - (_SEARCH_YEARS + 1) * _YEAR_MS:
                return None
            raise ValueError(
                f"cron expression '{self.expression}' matches no date within "
                f"{_SEARCH_YEARS} years. Allowed values: an expression that matches a date"
            ) from exc
        except (ValueError, OverflowError):  # past year 9999: what a date holds
            return None
        raise ValueError(f"cron expression '{self.expression}' does not move past {after_ms}")

    def latest_until(self, first_ms: int, next_ms: int | None) -> int:
        """The last tick before ``next_ms`` and not before ``first_ms``: the most recent of
        the ticks due from ``first_ms`` on, when the next one to come is ``next_ms`` (None:
        none comes, see :meth:`next_after`)."""
        next_ms = LAST_MS if next_ms is None else min(next_ms, LAST_MS)
        from croniter import croniter

        try:
            start = datetime.fromtimestamp(next_ms // 1000, UTC).astimezone(self.zone)
            before = croniter(self.expression, start, max_years_between_matches=_SEARCH_YEARS)
            found = int(before.get_prev(datetime).timestamp()) * 1000
        except (ValueError, OverflowError):  # (croniter's errors are ValueErrors)
            return first_ms
        return found if first_ms <= found < next_ms else first_ms


def check_expression(value: object) -> str:
    """``value`` as a cron expression croniter reads, in the forms allowed, else
    ``ValueError``."""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}. "
                         f"Allowed values: {ALLOWED_EXPRESSIONS}")  # fmt: skip
    text = " ".join(value.split())
    if not text:
        raise ValueError(_refused(value, "empty"))
    if text.startswith("@"):
        if text.lower() not in MACROS:
            raise ValueError(_refused(value, "unknown macro"))
        return text.lower()
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ValueError(_refused(value, f"longer than {MAX_EXPRESSION_CHARS} characters"))
    if not _FIELD_CHARS.match(text):
        raise ValueError(_refused(value, "unexpected characters"))
    fields = text.split(" ")
    if len(fields) != 5:
        raise ValueError(_refused(value, f"{len(fields)} fields"))
    from croniter import CroniterError, croniter

    try:
        croniter(text)
    except (CroniterError, ValueError, OverflowError) as exc:
        raise ValueError(_refused(value, _first_line(exc))) from None
    return text


def check_timezone(value: object) -> str:
    """``value`` as an IANA time zone zoneinfo knows, else ``ValueError``."""
    if not isinstance(value, str) or len(value) > 64 or not _ZONE_FORM.match(value):
        raise ValueError(f"invalid time zone {_shown(value)}. Allowed values: {ALLOWED_ZONES}")
    if value in _HOST_ZONES or value.startswith(_HOST_ZONE_TREES):
        raise ValueError(f"time zone {_shown(value)} is a host's setting, not an IANA zone. "
                         f"Allowed values: {ALLOWED_ZONES}")  # fmt: skip
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {_shown(value)}. Allowed values: {ALLOWED_ZONES}"
        ) from None
    return value


def _refused(value: str, why: str) -> str:
    return (f"invalid cron expression {_shown(value)} ({why}). "
            f"Allowed values: {ALLOWED_EXPRESSIONS}")  # fmt: skip


def _shown(value: object) -> str:
    """``value`` quoted for a message: at most 60 characters, escapes for the unprintable
    (a lone surrogate is shown as ``\\ud800``, never handed to an encoder)."""
    text = repr(value) if not isinstance(value, str) else ascii(value)
    return text if len(text) <= 62 else text[:60] + "…'"


def _first_line(exc: BaseException) -> str:
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ascii(line)[1:-1][:120]
