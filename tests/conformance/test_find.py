"""find(query) — every documented query parameter, alone and combined, and its errors."""

from __future__ import annotations

import json

import pytest

from .helpers import JS, SPEC_JOB_TYPES, Jobs


def _ids(js: JS, query: dict[str, object]) -> list[str]:
    src = (f"var r = sys.jobs.find({json.dumps(query)}), out = [];"
           " while (r.hasNext()) out.push(r.next().id()); out")
    return list(js.value(src))


def test_returns_a_result_set_of_jobs(js: JS, jobs: Jobs) -> None:
    jobs.pending()
    src = "var r = sys.jobs.find({}); [r.hasNext(), r.next() instanceof sys.jobs.Job]"
    assert js.value(src) == [True, True]


def test_ordered_by_creation_time_in_descendent_order(js: JS, jobs: Jobs) -> None:
    made = [jobs.pending() for _ in range(4)]
    assert _ids(js, {}) == list(reversed(made))


def test_the_documented_query_shape_is_a_valid_query(js: JS, jobs: Jobs) -> None:
    done = jobs.finished()
    jobs.pending()
    src = ("var query = {}; query['status'] = 'FINISHED'; query['_size'] = 50;"
           " var r = sys.jobs.find(query), out = []; while (r.hasNext()) out.push(r.next().id());"
           " out")
    assert js.value(src) == [done]


def test_type_filters_by_the_type_of_job(js: JS, jobs: Jobs) -> None:
    action = jobs.pending(type="EXECUTE_ACTION")
    jobs.pending(type="EXPORT_RECORDS")
    assert _ids(js, {"type": "EXECUTE_ACTION"}) == [action]


def test_type_accepts_many_separated_by_commas(js: JS, jobs: Jobs) -> None:
    a = jobs.pending(type="EXECUTE_ACTION")
    b = jobs.pending(type="EXPORT_RECORDS")
    jobs.pending(type="DELETE_RECORDS")
    assert _ids(js, {"type": "EXECUTE_ACTION,EXPORT_RECORDS"}) == [b, a]


def test_status_filters_by_the_status_of_the_job(js: JS, jobs: Jobs) -> None:
    pending = jobs.pending()
    jobs.finished()
    assert _ids(js, {"status": "PENDING"}) == [pending]


def test_status_accepts_many_separated_by_comma(js: JS, jobs: Jobs) -> None:
    pending = jobs.pending()
    done = jobs.finished()
    canceled = jobs.canceled()
    assert set(_ids(js, {"status": "PENDING,FINISHED"})) == {pending, done}
    assert canceled not in _ids(js, {"status": "PENDING,FINISHED"})


@pytest.mark.parametrize("status", ["PENDING", "RUNNING", "FINISHED", "STOPPING", "STOPPED",
                                    "CANCELED"])
def test_status_valid_values(js: JS, jobs: Jobs, status: str) -> None:
    job = jobs.in_status(status)
    assert job in _ids(js, {"status": status})


def test_start_from_alone(js: JS, jobs: Jobs) -> None:
    early = jobs.finished()
    cut = jobs.ms(early, "started_at") + 1
    late = jobs.finished(after_ms=cut)
    assert _ids(js, {"startFrom": cut}) == [late]


def test_start_to_alone(js: JS, jobs: Jobs) -> None:
    early = jobs.finished()
    cut = jobs.ms(early, "started_at")
    jobs.finished(after_ms=cut + 1)
    assert _ids(js, {"startTo": cut}) == [early]


def test_start_from_and_start_to_as_a_range_inclusive(js: JS, jobs: Jobs) -> None:
    a = jobs.finished()
    b = jobs.finished(after_ms=jobs.ms(a, "started_at") + 1)
    jobs.finished(after_ms=jobs.ms(b, "started_at") + 1)
    lo, hi = jobs.ms(a, "started_at"), jobs.ms(b, "started_at")
    assert _ids(js, {"startFrom": lo, "startTo": hi}) == [b, a]


def test_end_from_alone(js: JS, jobs: Jobs) -> None:
    early = jobs.finished()
    cut = jobs.ms(early, "ended_at") + 1
    late = jobs.finished(after_ms=cut)
    assert _ids(js, {"endFrom": cut}) == [late]


def test_end_to_alone(js: JS, jobs: Jobs) -> None:
    early = jobs.finished()
    cut = jobs.ms(early, "ended_at")
    jobs.finished(after_ms=cut + 1)
    assert _ids(js, {"endTo": cut}) == [early]


def test_end_from_and_end_to_as_a_range_inclusive(js: JS, jobs: Jobs) -> None:
    a = jobs.finished()
    b = jobs.finished(after_ms=jobs.ms(a, "ended_at") + 1)
    jobs.finished(after_ms=jobs.ms(b, "ended_at") + 1)
    lo, hi = jobs.ms(a, "ended_at"), jobs.ms(b, "ended_at")
    assert _ids(js, {"endFrom": lo, "endTo": hi}) == [b, a]


def test_create_from_alone(js: JS, jobs: Jobs) -> None:
    early = jobs.pending()
    cut = jobs.ms(early, "created_at") + 1
    late = jobs.pending(after_ms=cut)
    assert _ids(js, {"createFrom": cut}) == [late]


def test_create_to_alone(js: JS, jobs: Jobs) -> None:
    early = jobs.pending()
    cut = jobs.ms(early, "created_at")
    jobs.pending(after_ms=cut + 1)
    assert _ids(js, {"createTo": cut}) == [early]


def test_create_from_and_create_to_as_a_range_inclusive(js: JS, jobs: Jobs) -> None:
    a = jobs.pending()
    b = jobs.pending(after_ms=jobs.ms(a, "created_at") + 1)
    jobs.pending(after_ms=jobs.ms(b, "created_at") + 1)
    lo, hi = jobs.ms(a, "created_at"), jobs.ms(b, "created_at")
    assert _ids(js, {"createFrom": lo, "createTo": hi}) == [b, a]


@pytest.mark.parametrize("value", [True, "true"])
def test_has_errors_true(js: JS, jobs: Jobs, value: object) -> None:
    bad = jobs.finished(errors=True)
    jobs.finished()
    assert _ids(js, {"hasErrors": value}) == [bad]


@pytest.mark.parametrize("value", [False, "false"])
def test_has_errors_false(js: JS, jobs: Jobs, value: object) -> None:
    jobs.finished(errors=True)
    good = jobs.finished()
    assert _ids(js, {"hasErrors": value}) == [good]


def test_size_is_the_maximum_number_of_jobs_to_retrieve(js: JS, jobs: Jobs) -> None:
    made = [jobs.pending() for _ in range(5)]
    assert _ids(js, {"_size": 2}) == [made[4], made[3]]


def test_filters_combined(js: JS, jobs: Jobs) -> None:
    hit = jobs.finished(type="EXECUTE_ACTION", errors=True)
    jobs.finished(type="EXECUTE_ACTION")
    jobs.finished(type="EXPORT_RECORDS", errors=True)
    jobs.pending(type="EXECUTE_ACTION")
    lo = jobs.ms(hit, "created_at")
    query = {"type": "EXECUTE_ACTION", "status": "FINISHED", "hasErrors": "true",
             "createFrom": lo, "_size": 10}
    assert _ids(js, query) == [hit]


def test_count_is_the_total_ignoring_size(js: JS, jobs: Jobs) -> None:
    for _ in range(3):
        jobs.pending()
    assert js.value("sys.jobs.find({_size: 1}).count()") == 3


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"status": "DONE"}, "status"),
        ({"type": "NOT_A_TYPE"}, "type"),
        ({"hasErrors": "maybe"}, "hasErrors"),
        ({"_size": "many"}, "_size"),
        ({"_size": -1}, "_size"),
        ({"startFrom": "yesterday"}, "startFrom"),
        ({"createTo": "soon"}, "createTo"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_request_if_query_is_invalid(
    js: JS, query: dict[str, object], parameter: str
) -> None:
    code, message = js.error(f"sys.jobs.find({json.dumps(query)})")
    assert code == "badRequest"
    assert parameter in message


def test_bad_request_if_query_is_missing(js: JS) -> None:
    code, message = js.error("sys.jobs.find()")
    assert code == "badRequest" and "query" in message


def test_start_and_end_filters_leave_out_jobs_that_have_not_started_or_ended(
    js: JS, jobs: Jobs
) -> None:
    pending = jobs.pending()
    running = jobs.running()
    done = jobs.finished()
    assert pending not in _ids(js, {"startFrom": 0})
    assert set(_ids(js, {"startFrom": 0})) == {running, done}
    assert _ids(js, {"endFrom": 0}) == [done]


@pytest.mark.parametrize("job_type", SPEC_JOB_TYPES)
def test_type_accepts_every_job_type_scripts_can_use(js: JS, jobs: Jobs, job_type: str) -> None:
    job = jobs.pending(type=job_type)
    assert _ids(js, {"type": job_type}) == [job]
