"""logs(jobId, query) — "Retrieves logs for a background job. You can add some filters and
paginate them."."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from sysjobs.jobs import Engine, EngineSettings
from tests.integration.engine.helpers import ManualClock

from .helpers import JS, Jobs, clock_past, next_ms, register_public_types

UNKNOWN = "0123456789abcdef01234567"


def _messages(js: JS, job: str, query: dict[str, object]) -> list[str]:
    src = (f"var r = sys.jobs.logs('{job}', {json.dumps(query)}), out = [];"
           " while (r.hasNext()) out.push(r.next().message()); out")
    return list(js.value(src))


@pytest.fixture
def job(jobs: Jobs) -> str:
    job_id = jobs.pending()
    jobs.log(job_id, "INFO", "first step done")
    jobs.log(job_id, "ERROR", "Second step FAILED")
    jobs.log(job_id, "INFO", "third step done")
    return job_id


def test_returns_a_result_set_with_the_logs_of_the_job(js: JS, job: str) -> None:
    assert sorted(_messages(js, job, {})) == sorted(
        ["first step done", "Second step FAILED", "third step done"]
    )


def test_items_are_sys_jobs_job_log(js: JS, job: str) -> None:
    assert js.value(f"sys.jobs.logs('{job}', {{}}).next() instanceof sys.jobs.JobLog") is True


def test_level_info(js: JS, job: str) -> None:
    assert sorted(_messages(js, job, {"level": "INFO"})) == ["first step done", "third step done"]


def test_level_error(js: JS, job: str) -> None:
    assert _messages(js, job, {"level": "ERROR"}) == ["Second step FAILED"]


def test_message_is_matched_partially(js: JS, job: str) -> None:
    assert sorted(_messages(js, job, {"message": "step done"})) == [
        "first step done", "third step done"
    ]


def test_message_match_ignores_case(js: JS, job: str) -> None:
    assert _messages(js, job, {"message": "second step failed"}) == ["Second step FAILED"]


def test_from_is_the_minimum_timestamp(js: JS, jobs: Jobs, job: str) -> None:
    cut = next_ms()  # later than every entry so far
    clock_past(cut)  # the late entry is stamped after it
    jobs.log(job, "INFO", "late entry")
    assert _messages(js, job, {"from": cut}) == ["late entry"]


def test_to_is_the_maximum_timestamp(js: JS, jobs: Jobs, job: str) -> None:
    cut = next_ms()  # later than every entry so far
    clock_past(cut)  # the late entry is stamped after it
    jobs.log(job, "INFO", "late entry")
    assert "late entry" not in _messages(js, job, {"to": cut})
    assert len(_messages(js, job, {"to": cut})) == 3


def test_from_given_period_is_ignored(js: JS, job: str) -> None:
    assert _messages(js, job, {"from": 0, "period": "yesterday"}) != []


def test_to_given_period_is_ignored(js: JS, job: str) -> None:
    far = int(time.time() * 1000) + 3_600_000
    assert len(_messages(js, job, {"to": far, "period": "yesterday"})) == 3


def test_period_today(js: JS, job: str) -> None:
    assert len(_messages(js, job, {"period": "today"})) == 3


def test_period_yesterday(js: JS, job: str) -> None:
    assert _messages(js, job, {"period": "yesterday"}) == []


@pytest.mark.parametrize("period", ["2h 30m", "10m"])
def test_period_time_duration_reads_logs_in_the_last_amount_of_time(
    js: JS, job: str, period: str
) -> None:
    assert len(_messages(js, job, {"period": period})) == 3


def test_size_is_the_maximum_number_of_logs_to_retrieve(js: JS, job: str) -> None:
    assert len(_messages(js, job, {"_size": 2})) == 2


def test_bad_request_if_job_id_is_invalid(js: JS) -> None:
    code, message = js.error("sys.jobs.logs('nope', {})")
    assert code == "badRequest" and "'jobId'" in message and "nope" in message


@pytest.mark.parametrize(
    ("query", "parameter"),
    [({"level": "WARN"}, "level"), ({"period": "soon"}, "period"), ({"from": "x"}, "from"),
     ({"_size": "ten"}, "_size"), ({"colour": "red"}, "colour")],
)
def test_bad_request_if_query_is_invalid(
    js: JS, job: str, query: dict[str, object], parameter: str
) -> None:
    code, message = js.error(f"sys.jobs.logs('{job}', {json.dumps(query)})")
    assert code == "badRequest" and parameter in message


def test_not_found_if_no_job_is_found_with_the_given_id(js: JS) -> None:
    assert js.error(f"sys.jobs.logs('{UNKNOWN}', {{}})")[0] == "notFound"


def test_bad_request_if_query_is_missing(js: JS, job: str) -> None:
    code, message = js.error(f"sys.jobs.logs('{job}')")
    assert code == "badRequest" and "'query'" in message


#: The engine's time in the calendar-day tests: local noon of a fixed day, so "3h ago" is
#: today and "yesterday" is the day before whatever the machine's own time (the engine reads
#: ``now`` for a period from its clock; a run just after midnight read the wall clock).
NOON_MS = int(datetime(2026, 6, 15, 12, 0).astimezone().timestamp() * 1000)
HOUR_MS = 3_600_000


@pytest.fixture
def at_noon(db_url: str) -> Iterator[tuple[JS, Jobs]]:
    """A sandbox over an engine of its own on the emptied database, its clock at ``NOON_MS``."""
    opened = Engine.open(db_url, settings=EngineSettings(clock=ManualClock(NOON_MS)))
    register_public_types(opened)
    runner = JS(opened)
    try:
        yield runner, Jobs(opened)
    finally:
        runner.close()
        opened.close()


@pytest.fixture
def dated(at_noon: tuple[JS, Jobs]) -> str:
    """A job with logs from the day before yesterday's last millisecond, yesterday noon,
    yesterday's last millisecond, 3 h, 2 h, 11 min and 5 min before the engine's noon."""
    _, jobs = at_noon
    job_id = jobs.pending()
    midnight = NOON_MS - 12 * HOUR_MS
    jobs.log_at(job_id, "INFO", "before yesterday", midnight - 24 * HOUR_MS - 1)
    jobs.log_at(job_id, "INFO", "yesterday", midnight - 12 * HOUR_MS)
    jobs.log_at(job_id, "INFO", "yesterday's last ms", midnight - 1)
    for label, minutes in (("3h ago", 180), ("2h ago", 120), ("11m ago", 11), ("5m ago", 5)):
        jobs.log_at(job_id, "INFO", label, NOON_MS - minutes * 60_000)
    return job_id


def test_period_yesterday_reads_the_logs_of_yesterday(at_noon: tuple[JS, Jobs], dated: str) -> None:
    assert _messages(at_noon[0], dated, {"period": "yesterday"}) == [
        "yesterday", "yesterday's last ms"
    ]


def test_period_today_leaves_out_yesterday(at_noon: tuple[JS, Jobs], dated: str) -> None:
    assert _messages(at_noon[0], dated, {"period": "today"}) == [
        "3h ago", "2h ago", "11m ago", "5m ago"
    ]


def test_period_10m_reads_the_last_ten_minutes(at_noon: tuple[JS, Jobs], dated: str) -> None:
    assert _messages(at_noon[0], dated, {"period": "10m"}) == ["5m ago"]


def test_period_2h_30m_reads_the_last_two_and_a_half_hours(
    at_noon: tuple[JS, Jobs], dated: str
) -> None:
    assert _messages(at_noon[0], dated, {"period": "2h 30m"}) == [
        "2h ago", "11m ago", "5m ago"
    ]


def test_from_and_to_bound_an_inclusive_range(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    for ts in (1_000, 2_000, 3_000):
        jobs.log_at(job, "INFO", f"at {ts}", ts)
    assert _messages(js, job, {"from": 2_000, "to": 3_000}) == ["at 2000", "at 3000"]
