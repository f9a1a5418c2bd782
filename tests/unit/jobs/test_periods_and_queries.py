"""Parsing of ``period`` and of the ``find``/``logs`` query maps (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sysjobs.errors import BadRequest
from sysjobs.jobs.periods import duration_ms, period_range
from sysjobs.jobs.queries import FindQuery, LogsQuery

NOW = int(datetime(2026, 3, 10, 15, 30, tzinfo=UTC).timestamp() * 1000)
TYPES = {"EXECUTE_ACTION", "IMPORT_RECORDS"}


@pytest.mark.parametrize(
    ("text", "ms"),
    [("10m", 600_000), ("2h 30m", 9_000_000), ("1d", 86_400_000), ("2h30m", 9_000_000),
     ("1d 2h 3m 4s", 93_784_000), (" 45s ", 45_000), ("3H", 10_800_000)],
)  # fmt: skip
def test_durations_are_read_in_days_hours_minutes_seconds(text: str, ms: int) -> None:
    assert duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "10", "m", "10x", "30m 2h", "0m", "ten minutes", "1.5h"])
def test_malformed_durations_are_rejected_with_the_allowed_forms(text: str) -> None:
    with pytest.raises(BadRequest, match=r"parameter 'period'\. Allowed values: today, yesterday"):
        period_range(text, NOW)


def test_a_duration_period_ends_now() -> None:
    assert period_range("10m", NOW) == (NOW - 600_000, NOW)


def test_today_and_yesterday_are_calendar_days_in_the_given_zone() -> None:
    tz = timezone(timedelta(hours=-3))
    midnight = int(datetime(2026, 3, 10, tzinfo=tz).timestamp() * 1000)
    assert period_range("today", NOW, tz) == (midnight, NOW)
    assert period_range("Yesterday", NOW, tz) == (midnight - 86_400_000, midnight - 1)


def test_find_query_reads_every_parameter() -> None:
    q = FindQuery.parse(
        {"type": "EXECUTE_ACTION,IMPORT_RECORDS", "status": "FINISHED, STOPPED",
         "createFrom": "5", "createTo": 9, "startFrom": 1.0, "endTo": 3,
         "hasErrors": "TRUE", "_size": "10"},
        TYPES,
    )  # fmt: skip
    assert q.types == ("EXECUTE_ACTION", "IMPORT_RECORDS")
    assert q.statuses == ("FINISHED", "STOPPED")
    assert (q.created, q.started, q.ended) == ((5, 9), (1, None), (None, 3))
    assert q.has_errors is True and q.size == 10


def test_find_query_treats_null_values_as_absent() -> None:
    assert FindQuery.parse({"status": None, "_size": None}, TYPES) == FindQuery()


def test_find_query_type_errors_list_the_allowed_types() -> None:
    with pytest.raises(BadRequest) as raised:
        FindQuery.parse({"type": "EXPORT"}, TYPES)
    assert raised.value.message == (
        "Invalid value 'EXPORT' for parameter 'type'. "
        "Allowed values: EXECUTE_ACTION, IMPORT_RECORDS"
    )


def test_an_empty_status_list_is_rejected() -> None:
    with pytest.raises(BadRequest, match="Invalid value '' for parameter 'status'"):
        FindQuery.parse({"status": " , "}, TYPES)


def test_logs_query_from_or_to_overrides_a_period_even_a_malformed_one() -> None:
    assert LogsQuery.parse({"to": 7, "period": "whenever"}, NOW).ts == (None, 7)
    assert LogsQuery.parse({"period": "1d"}, NOW).ts == (NOW - 86_400_000, NOW)


def test_logs_query_accepts_exactly_one_level_spelled_as_the_spec() -> None:
    with pytest.raises(BadRequest, match="parameter 'level'"):
        LogsQuery.parse({"level": "INFO,ERROR"}, NOW)
    with pytest.raises(BadRequest, match="parameter 'level'"):
        LogsQuery.parse({"level": "info"}, NOW)
