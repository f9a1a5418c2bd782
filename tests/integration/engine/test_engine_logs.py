"""``logs`` and ``log_info``/``log_error``: filters alone and combined, periods, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from sysjobs.errors import BadRequest, NotFound
from sysjobs.jobs import Engine, JobLog
from sysjobs.jobs.models import to_ms
from tests.integration.engine.helpers import ManualClock
from tests.integration.engine.jobtypes import register


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): taking a new
    one from the pool and checking it on the way back cost more than most tests here."""
    return reused_db_url


@pytest.fixture
def engine(clocked_engine: Engine) -> Engine:
    """The module's engine on a clock the test moves: each line below is stamped 3 ms after
    the one before it, so the period filters' bounds fall between two lines exactly."""
    return clocked_engine


@pytest.fixture
def logged(engine: Engine, clock: ManualClock) -> tuple[Engine, str, list[JobLog]]:
    register(engine)
    job = engine.enqueue("NOOP", {})
    for level, message in [
        ("INFO", "Import started"), ("ERROR", "Row 7: bad EMAIL"), ("INFO", "100% done"),
        ("ERROR", "row 9: bad email_2"), ("INFO", "Import finished"),
    ]:  # fmt: skip
        (engine.log_error if level == "ERROR" else engine.log_info)(job.id, message, {"l": level})
        clock.advance(3)
    return engine, job.id, list(engine.logs(job.id, {}))


def _messages(engine: Engine, job_id: str, query: dict[str, Any]) -> list[str]:
    return [entry.message for entry in engine.logs(job_id, query)]


def test_logs_are_returned_oldest_first_with_level_and_info(logged: Any) -> None:
    engine, job_id, entries = logged
    assert [e.message for e in entries][:2] == ["Import started", "Row 7: bad EMAIL"]
    assert entries[1].level == "ERROR" and entries[1].additional_info == {"l": "ERROR"}
    assert engine.require(job_id).has_errors


def test_an_info_log_does_not_set_has_errors(engine: Engine) -> None:
    register(engine)
    job = engine.enqueue("NOOP", {})
    engine.log_info(job.id, "fine")
    assert not engine.require(job.id).has_errors


def test_logs_filter_by_level(logged: Any) -> None:
    engine, job_id, _ = logged
    assert _messages(engine, job_id, {"level": "ERROR"}) == [
        "Row 7: bad EMAIL",
        "row 9: bad email_2",
    ]


def test_logs_filter_by_message_as_a_case_insensitive_substring(logged: Any) -> None:
    engine, job_id, _ = logged
    assert _messages(engine, job_id, {"message": "BAD email"}) == [
        "Row 7: bad EMAIL", "row 9: bad email_2",
    ]  # fmt: skip
    assert _messages(engine, job_id, {"message": "100%"}) == ["100% done"]
    assert _messages(engine, job_id, {"message": "email_"}) == ["row 9: bad email_2"]


def test_logs_filter_by_from_and_to_inclusive(logged: Any) -> None:
    engine, job_id, entries = logged
    second, fourth = to_ms(entries[1].timestamp), to_ms(entries[3].timestamp)
    assert len(_messages(engine, job_id, {"from": second, "to": fourth})) == 3
    assert _messages(engine, job_id, {"to": second})[-1] == "Row 7: bad EMAIL"
    assert _messages(engine, job_id, {"from": fourth})[0] == "row 9: bad email_2"


def test_logs_period_selects_the_last_stretch_of_time(logged: Any) -> None:
    engine, job_id, _ = logged
    assert len(_messages(engine, job_id, {"period": "10m"})) == 5
    assert len(_messages(engine, job_id, {"period": "2h 30m"})) == 5
    assert len(_messages(engine, job_id, {"period": "1d"})) == 5
    assert len(_messages(engine, job_id, {"period": "today"})) in (0, 5)  # 0 only past midnight
    assert _messages(engine, job_id, {"period": "yesterday"}) == []


def test_from_and_to_override_the_period(logged: Any) -> None:
    engine, job_id, entries = logged
    first = to_ms(entries[0].timestamp)
    assert _messages(engine, job_id, {"period": "yesterday", "to": first}) == ["Import started"]


def test_logs_combine_filters_and_size_with_a_total_count(logged: Any) -> None:
    engine, job_id, _ = logged
    cursor = engine.logs(job_id, {"level": "INFO", "message": "import", "period": "1d", "_size": 1})
    assert [e.message for e in cursor] == ["Import started"]
    assert cursor.count() == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"lvl": "INFO"}, "Unknown parameter 'lvl'. Allowed parameters: level, message, from"),
        ({"level": "WARN"}, "Invalid value 'WARN' for parameter 'level'. Allowed values: INFO"),
        ({"message": 5}, "Invalid value 5 for parameter 'message'. Allowed values: a string"),
        ({"period": "fortnight"}, "Invalid value 'fortnight' for parameter 'period'. "
                                  "Allowed values: today, yesterday, or a duration"),
        ({"period": "0m"}, "Invalid value '0m' for parameter 'period'"),
        ({"from": 9, "to": 1}, "Invalid range: 'from' (9) is after 'to' (1)"),
        ({"_size": -1}, "Invalid value -1 for parameter '_size'"),
    ],
)  # fmt: skip
def test_logs_reject_bad_queries_naming_parameter_value_and_allowed(
    logged: Any, query: dict[str, Any], message: str
) -> None:
    engine, job_id, _ = logged
    with pytest.raises(BadRequest) as raised:
        engine.logs(job_id, query)
    assert raised.value.message.startswith(message), raised.value.message


def test_logs_and_log_writes_reject_bad_and_unknown_job_ids(engine: Engine) -> None:
    with pytest.raises(BadRequest, match="parameter 'jobId'"):
        engine.logs("12", {})
    with pytest.raises(NotFound):
        engine.logs("b" * 24, {})
    with pytest.raises(NotFound):
        engine.log_info("b" * 24, "hello")
    with pytest.raises(BadRequest, match="parameter 'message'"):
        engine.log_error("b" * 24, 42)  # type: ignore[arg-type]
