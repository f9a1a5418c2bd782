"""sys.jobs.JobLog — "Contains information about a line of log."."""

from __future__ import annotations

import time

from .helpers import JS, Jobs


def _first(js: JS, job: str, method: str) -> object:
    return js.value(f"sys.jobs.logs('{job}', {{}}).next().{method}")


def test_timestamp_returns_the_date_in_which_log_has_been_recorded(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    before = int(time.time() * 1000)
    jobs.log(job, "INFO", "x")
    after = int(time.time() * 1000)
    src = f"var t = sys.jobs.logs('{job}', {{}}).next().timestamp(); [t instanceof Date, +t]"
    is_date, ms = js.value(src)
    assert is_date is True and before - 1 <= ms <= after + 1


def test_level_is_info_or_error(js: JS, jobs: Jobs) -> None:
    info, error = jobs.pending(), jobs.pending()
    jobs.log(info, "INFO", "x")
    jobs.log(error, "ERROR", "y")
    assert _first(js, info, "level()") == "INFO"
    assert _first(js, error, "level()") == "ERROR"


def test_message_returns_the_message_of_the_log(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    jobs.log(job, "INFO", "exactly this")
    assert _first(js, job, "message()") == "exactly this"


def test_additional_info_returns_an_object(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    jobs.log(job, "ERROR", "x", info={"record": "abc", "attempt": 2})
    assert _first(js, job, "additionalInfo()") == {"record": "abc", "attempt": 2}


def test_additional_info_could_be_null(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    jobs.log(job, "INFO", "x")
    assert _first(js, job, "additionalInfo()") is None
