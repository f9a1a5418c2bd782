"""Bad input to ``sys.jobs`` ends in ``badRequest`` naming the parameter — never in
``systemException``, a Python error text, a silently dropped filter or a stalled host.

Each case is an attack a review ran against the engine (SQLite and PostgreSQL): a period
that made a backtracking regex run for seconds, lone UTF-16 surrogates, time bounds past a
64-bit column, NaN bounds that JSON turned into "no filter", a message filter past SQLite's
LIKE limit, circular and BigInt arguments.
"""

from __future__ import annotations

import pytest

from sysjobs.jobs import Engine
from sysjobs.jobs.values import MAX_MS, MAX_PATTERN_CHARS

from .helpers import JS, Jobs

#: A script's time limit in these tests: an answer within it is not a ``timeout``.
LIMIT_S = 5.0


def error(js: JS, source: str) -> tuple[str | None, str]:
    result = js.run(source, timeout_s=LIMIT_S)
    assert result.outcome.value != "timeout", f"{source[:60]} ran out of time"
    assert not result.ok and result.error is not None, f"{source[:60]} did not throw"
    return result.error.code, result.error.message


def refused(js: JS, source: str, *named: str) -> str:
    code, message = error(js, source)
    assert code == "badRequest", message
    for text in named:
        assert text in message, message
    assert "Traceback" not in message and "Error:" not in message.split(".")[0]
    return message


@pytest.fixture
def job(jobs: Jobs) -> str:
    job_id = jobs.pending()
    jobs.log(job_id, "INFO", "a line")
    return job_id


@pytest.mark.parametrize("period", [
    "'1d' + ' '.repeat(250) + 'x'",
    "'1d' + ' '.repeat(100000) + 'x'",
    "' '.repeat(100000) + '1d'",
    "'1 '.repeat(50000)",
])  # fmt: skip
def test_a_pathological_period_is_a_bad_request_within_the_time_limit(
    js: JS, job: str, period: str
) -> None:
    refused(js, f"sys.jobs.logs('{job}', {{period: {period}}})", "parameter 'period'")


def test_a_lone_surrogate_in_a_log_message_is_refused_and_nothing_is_stored(
    js: JS, job: str, jobs_engine: Engine
) -> None:
    for call in (f"sys.jobs.logInfo('{job}', 'a\\ud800b')",
                 f"sys.jobs.logError('{job}', '\\udfff')",
                 f"sys.jobs.findById('{job}').logInfo('x\\ud83d')"):  # fmt: skip
        refused(js, call, "parameter 'message'", "lone UTF-16 surrogates", "'x\\ud83d'"[:0])
    assert [e.message for e in jobs_engine.logs(job, {})] == ["a line"]


def test_a_surrogate_pair_is_an_ordinary_character_and_is_stored(
    js: JS, job: str, jobs_engine: Engine
) -> None:
    js.run_ok(f"sys.jobs.logInfo('{job}', 'ok \\ud83d\\ude00')")
    assert [e.message for e in jobs_engine.logs(job, {})][-1] == "ok 😀"


def test_a_logs_message_filter_with_a_lone_surrogate_is_refused(js: JS, job: str) -> None:
    refused(js, f"sys.jobs.logs('{job}', {{message: 'a\\ud800'}})", "parameter 'message'")


@pytest.mark.parametrize("bound", ["1e20", "-1", "2 ** 63", f"{MAX_MS + 1}", "'1e20'"])
def test_a_time_bound_outside_the_range_names_the_parameter_and_the_range(
    js: JS, bound: str
) -> None:
    refused(js, f"sys.jobs.find({{createFrom: {bound}}})", "parameter 'createFrom'",
            f"integer from 0 to {MAX_MS}")  # fmt: skip


@pytest.mark.parametrize("bound", ["NaN", "Infinity", "-Infinity", "0 / 0"])
def test_a_nan_or_infinite_bound_is_refused_never_dropped(js: JS, job: str, bound: str) -> None:
    refused(js, f"sys.jobs.find({{createFrom: {bound}}})", "parameter 'createFrom'", "finite")
    refused(js, f"sys.jobs.find({{status: 'PENDING', endTo: {bound}}})", "parameter 'endTo'")
    refused(js, f"sys.jobs.logs('{job}', {{from: {bound}}})", "parameter 'from'", "finite")


def test_a_nan_inside_an_array_names_its_index(js: JS) -> None:
    refused(js, "sys.jobs.find({status: ['PENDING', NaN]})", "array item (index 1)", "finite")


def test_null_bounds_still_mean_no_filter(js: JS, job: str) -> None:
    assert js.value("sys.jobs.find({createFrom: null, createTo: null}).count()") == 1


def test_a_message_filter_past_the_cap_is_refused_before_sqlites_like_limit(
    js: JS, job: str
) -> None:
    refused(js, f"sys.jobs.logs('{job}', {{message: 'x'.repeat(60000)}})",
            "parameter 'message'", f"at most {MAX_PATTERN_CHARS} characters")  # fmt: skip
    at_cap = f"sys.jobs.logs('{job}', {{message: 'x'.repeat({MAX_PATTERN_CHARS})}}).count()"
    assert js.value(at_cap) == 0


def test_like_wildcards_in_a_message_filter_are_literal(js: JS, job: str) -> None:
    assert js.value(f"sys.jobs.logs('{job}', {{message: '%_%'}}).count()") == 0
    assert js.value(f"sys.jobs.logs('{job}', {{message: 'A LINE'}}).count()") == 1


@pytest.mark.parametrize(("source", "named"), [
    ("var q = {status: 'PENDING'}; q.self = q; sys.jobs.find(q)", "parameter 'self'"),
    ("var a = []; a.push(a); sys.jobs.waitForJob('0123456789abcdef01234567', a, 1)", "index 0"),
    ("sys.jobs.find({_size: 10n})", "parameter '_size'"),
    ("sys.jobs.logInfo(10n ** 400n)", "BigInt"),
])  # fmt: skip
def test_circular_and_bigint_arguments_are_bad_requests(js: JS, source: str, named: str) -> None:
    refused(js, source, named)


def test_an_argument_nested_too_deep_is_a_bad_request(js: JS) -> None:
    refused(js, "var q = 'x'; for (var i = 0; i < 100000; i++) q = [q]; sys.jobs.find({type: q})",
            "nested")  # fmt: skip


def test_an_error_a_getter_throws_while_arguments_are_sent_reaches_the_script_as_it_is(
    js: JS,
) -> None:
    code, message = error(js, "sys.jobs.find({get status() { throw new TypeError('mine'); }})")
    assert (code, message) == (None, "mine")
    code, message = error(js, "sys.jobs.find({get status() { throw new RangeError('r'); }, x: NaN})")
    assert (code, message) == (None, "r")


@pytest.mark.parametrize("wait", ["NaN", "Infinity", "-1", "'10'"])
def test_wait_for_job_refuses_a_wait_that_is_not_a_finite_number(js: JS, job: str, wait: str) -> None:
    refused(js, f"sys.jobs.waitForJob('{job}', 'FINISHED', {wait})", "maxTimeToWait")


def test_a_job_id_is_refused_with_the_same_message_by_every_function(js: JS) -> None:
    expected = ("Invalid value 'nope' for parameter 'jobId'. Allowed values: "
                "a job id of 24 lowercase hexadecimal characters (0-9, a-f)")  # fmt: skip
    for call in ("sys.jobs.logs('nope', {})", "sys.jobs.logInfo('nope', 'm')",
                 "sys.jobs.setLowPriority('nope')", "sys.jobs.waitForJob('nope', 'FINISHED', 1)"):  # fmt: skip
        assert error(js, call) == ("badRequest", expected)
    assert error(js, "sys.jobs.findById('nope')") == ("badRequest", expected.replace("jobId", "id"))


def test_a_desired_status_is_refused_with_the_engines_message(
    js: JS, job: str, jobs_engine: Engine
) -> None:
    from sysjobs.errors import BadRequest

    with pytest.raises(BadRequest) as raised:
        jobs_engine.wait(job, ["DONE"], 0)
    assert error(js, f"sys.jobs.waitForJob('{job}', ['DONE'], 1)") == (
        "badRequest", raised.value.message)  # fmt: skip


def test_a_refused_key_of_a_million_characters_is_cut_in_the_message(js: JS) -> None:
    message = refused(js, "var q = {}; q['k'.repeat(1000000)] = NaN; sys.jobs.find(q)", "parameter 'kkk")
    assert len(message) < 300
