"""logInfo(jobId, message) / logError(jobId, message)."""

from __future__ import annotations

import pytest

from .helpers import JS, Jobs

UNKNOWN = "0123456789abcdef01234567"
FUNCTIONS = [("logInfo", "INFO"), ("logError", "ERROR")]


@pytest.mark.parametrize(("fn", "level"), FUNCTIONS)
def test_adds_a_log_to_the_job_with_the_level(js: JS, jobs: Jobs, fn: str, level: str) -> None:
    job = jobs.pending()
    js.run_ok(f"sys.jobs.{fn}('{job}', 'hello there')")
    assert jobs.logs(job) == [(level, "hello there")]


def test_adding_an_error_log_sets_the_error_flag(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    assert jobs.get(job).has_errors is False
    js.run_ok(f"sys.jobs.logError('{job}', 'broken')")
    assert jobs.get(job).has_errors is True


def test_adding_an_info_log_does_not_set_the_error_flag(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    js.run_ok(f"sys.jobs.logInfo('{job}', 'fine')")
    assert jobs.get(job).has_errors is False


@pytest.mark.parametrize(("fn", "level"), FUNCTIONS)
def test_without_job_id_the_current_job_is_used(js: JS, jobs: Jobs, fn: str, level: str) -> None:
    current = jobs.pending()
    js.run_ok(f"sys.jobs.{fn}('from the script')", job_id=current)
    assert (level, "from the script") in jobs.logs(current)


@pytest.mark.parametrize(("fn", "level"), FUNCTIONS)
def test_without_current_job_the_log_is_discarded_silently(
    js: JS, jobs: Jobs, fn: str, level: str
) -> None:
    other = jobs.pending()
    js.run_ok(f"sys.jobs.{fn}('nowhere to go')")
    assert jobs.logs(other) == []


@pytest.mark.parametrize(("fn", "level"), FUNCTIONS)
def test_bad_request_if_job_id_is_invalid(js: JS, fn: str, level: str) -> None:
    code, message = js.error(f"sys.jobs.{fn}('bad-id', 'x')")
    assert code == "badRequest" and "'jobId'" in message and "bad-id" in message


@pytest.mark.parametrize(("fn", "level"), FUNCTIONS)
@pytest.mark.parametrize("message", ["42", "null", "{}"])
def test_bad_request_if_message_is_invalid(
    js: JS, jobs: Jobs, fn: str, level: str, message: str
) -> None:
    job = jobs.pending()
    code, text = js.error(f"sys.jobs.{fn}('{job}', {message})")
    assert code == "badRequest" and "'message'" in text


@pytest.mark.parametrize(("fn", "level"), FUNCTIONS)
def test_not_found_if_no_job_is_found_with_the_given_id(js: JS, fn: str, level: str) -> None:
    assert js.error(f"sys.jobs.{fn}('{UNKNOWN}', 'x')")[0] == "notFound"


@pytest.mark.parametrize(("fn", "level"), FUNCTIONS)
def test_a_null_job_id_means_the_current_job(js: JS, jobs: Jobs, fn: str, level: str) -> None:
    current = jobs.pending()
    js.run_ok(f"sys.jobs.{fn}(null, 'explicitly none')", job_id=current)
    assert (level, "explicitly none") in jobs.logs(current)
