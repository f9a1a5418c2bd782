"""sys.jobs.Job — "Contains information about the job.", one test per method sentence."""

from __future__ import annotations

import pytest

from .helpers import JS, SPEC_JOB_TYPES, Jobs, clock_past, next_ms


def _call(js: JS, job: str, method: str) -> object:
    return js.value(f"sys.jobs.findById('{job}').{method}")


def test_id_returns_the_id_of_the_job(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    assert _call(js, job, "id()") == job


def test_label_returns_the_label_of_the_job(js: JS, jobs: Jobs) -> None:
    job = jobs.pending(label="Nightly export")
    assert _call(js, job, "label()") == "Nightly export"


def test_name_is_the_same_as_label(js: JS, jobs: Jobs) -> None:
    job = jobs.pending(label="Nightly export")
    assert _call(js, job, "name()") == "Nightly export"


@pytest.mark.parametrize("job_type", SPEC_JOB_TYPES)
def test_type_returns_the_type_of_the_job(js: JS, jobs: Jobs, job_type: str) -> None:
    job = jobs.pending(type=job_type)
    assert _call(js, job, "type()") == job_type


@pytest.mark.parametrize(
    "status", ["PENDING", "RUNNING", "FINISHED", "STOPPING", "STOPPED", "CANCELED"]
)
def test_status_returns_the_current_status_of_the_job(js: JS, jobs: Jobs, status: str) -> None:
    job = jobs.in_status(status)
    assert _call(js, job, "status()") == status


def test_status_is_read_fresh_when_called(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    src = (f"var j = sys.jobs.findById('{job}'); var before = j.status();"
           " __hook(); [before, j.status()]")
    assert js.value(src, hook=lambda: jobs.cancel(job)) == ["PENDING", "CANCELED"]


def test_progress_returns_the_percentage_of_progress(js: JS, jobs: Jobs) -> None:
    job = jobs.finished()
    progress = _call(js, job, "progress()")
    assert isinstance(progress, int | float) and 0 <= progress <= 100
    assert progress == jobs.get(job).progress


def test_waiting_is_milliseconds_from_creation_to_start(js: JS, jobs: Jobs) -> None:
    job = jobs.finished()
    row = jobs.get(job)
    expected = jobs.ms(job, "started_at") - jobs.ms(job, "created_at")
    assert _call(js, job, "waiting()") == pytest.approx(expected, abs=1)
    assert row.started_at is not None


def test_waiting_grows_while_pending(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    first = _call(js, job, "waiting()")
    clock_past(next_ms())  # the clock has moved on since the first reading
    second = _call(js, job, "waiting()")
    assert isinstance(first, int | float) and isinstance(second, int | float)
    assert second > first


def test_duration_is_milliseconds_from_start_to_end(js: JS, jobs: Jobs) -> None:
    job = jobs.finished()
    expected = jobs.ms(job, "ended_at") - jobs.ms(job, "started_at")
    assert _call(js, job, "duration()") == pytest.approx(expected, abs=1)


def test_duration_grows_while_running(js: JS, jobs: Jobs) -> None:
    job = jobs.running()
    first = _call(js, job, "duration()")
    clock_past(next_ms())  # the clock has moved on since the first reading
    second = _call(js, job, "duration()")
    assert isinstance(first, int | float) and isinstance(second, int | float)
    assert second > first


def test_has_errors_is_false_without_errors(js: JS, jobs: Jobs) -> None:
    assert _call(js, jobs.finished(), "hasErrors()") is False


def test_has_errors_is_true_if_there_have_been_errors(js: JS, jobs: Jobs) -> None:
    assert _call(js, jobs.finished(errors=True), "hasErrors()") is True


def test_start_date_is_null_while_pending(js: JS, jobs: Jobs) -> None:
    assert _call(js, jobs.pending(), "startDate()") is None


def test_start_date_is_the_date_the_job_started(js: JS, jobs: Jobs) -> None:
    job = jobs.finished()
    src = f"var d = sys.jobs.findById('{job}').startDate(); [d instanceof Date, d.getTime()]"
    assert js.value(src) == [True, jobs.ms(job, "started_at")]


def test_end_date_is_the_date_the_job_finished(js: JS, jobs: Jobs) -> None:
    job = jobs.finished()
    src = f"var d = sys.jobs.findById('{job}').endDate(); [d instanceof Date, d.getTime()]"
    assert js.value(src) == [True, jobs.ms(job, "ended_at")]


def test_end_date_is_set_when_the_job_was_stopped(js: JS, jobs: Jobs) -> None:
    job = jobs.stopped()
    assert js.value(f"sys.jobs.findById('{job}').endDate() instanceof Date") is True


def test_end_date_is_null_while_running(js: JS, jobs: Jobs) -> None:
    assert _call(js, jobs.running(), "endDate()") is None


def test_run_by_returns_id_and_name_of_the_user(js: JS, jobs: Jobs) -> None:
    user = {"id": "0123456789abcdef0123abcd", "name": "Ada Lovelace"}
    job = jobs.pending(run_by=user)
    assert _call(js, job, "runBy()") == user


def test_data_returns_the_parameters_of_the_job(js: JS, jobs: Jobs) -> None:
    job = jobs.pending(data={"entityName": "companies", "actionName": "logSomething"})
    assert _call(js, job, "data()") == {"entityName": "companies", "actionName": "logSomething"}


def test_data_hides_private_inputs(js: JS, jobs: Jobs) -> None:
    job = jobs.pending(data={"entityName": "companies", "_query": {"type": "a"}, "_params": {}})
    assert _call(js, job, "data()") == {"entityName": "companies"}


def test_results_returns_the_results_of_the_job(js: JS, jobs: Jobs) -> None:
    job = jobs.finished(results={"results": {"status": "ok", "response": "done"}})
    assert _call(js, job, "results()") == {"results": {"status": "ok", "response": "done"}}


def test_logs_returns_the_logs_of_the_job_with_a_query(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    jobs.log(job, "INFO", "one")
    jobs.log(job, "ERROR", "two")
    src = (f"var r = sys.jobs.findById('{job}').logs({{level: 'ERROR'}}), out = [];"
           " while (r.hasNext()) out.push(r.next().message()); out")
    assert js.value(src) == ["two"]


def test_logs_without_a_query_returns_all_logs(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    jobs.log(job, "INFO", "one")
    assert js.value(f"sys.jobs.findById('{job}').logs().count()") == 1


def test_log_info_adds_a_log_with_the_info_level(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    js.run_ok(f"sys.jobs.findById('{job}').logInfo('from the job object')")
    assert jobs.logs(job) == [("INFO", "from the job object")]


def test_log_error_adds_a_log_with_the_error_level(js: JS, jobs: Jobs) -> None:
    job = jobs.pending()
    js.run_ok(f"sys.jobs.findById('{job}').logError('bad thing')")
    assert jobs.logs(job) == [("ERROR", "bad thing")]
    assert jobs.get(job).has_errors is True


@pytest.mark.parametrize("method", ["logInfo(42)", "logError(null)"])
def test_log_methods_bad_request_if_message_is_invalid(js: JS, jobs: Jobs, method: str) -> None:
    job = jobs.pending()
    code, message = js.error(f"sys.jobs.findById('{job}').{method}")
    assert code == "badRequest" and "'message'" in message


@pytest.mark.parametrize("method", ["logs()", "logInfo('x')", "logError('x')", "status()"])
def test_not_found_if_job_is_not_found_in_the_database(
    js: JS, jobs: Jobs, method: str
) -> None:
    job = jobs.pending()
    src = f"var j = sys.jobs.findById('{job}'); __hook(); j.{method}"
    code, _ = js.error(src, hook=lambda: jobs.delete(job))
    assert code == "notFound"


def test_waiting_stops_growing_once_the_job_started(js: JS, jobs: Jobs) -> None:
    job = jobs.running()
    first = _call(js, job, "waiting()")
    clock_past(next_ms())  # the clock has moved on since the first reading
    assert _call(js, job, "waiting()") == first


def test_duration_stops_growing_once_the_job_ended(js: JS, jobs: Jobs) -> None:
    job = jobs.finished()
    first = _call(js, job, "duration()")
    clock_past(next_ms())  # the clock has moved on since the first reading
    assert _call(js, job, "duration()") == first
