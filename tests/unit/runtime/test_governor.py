"""Governance budgets of one run, and the bounded capture of a run's ``log()`` lines."""

from __future__ import annotations

import json

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.errors import BadRequest, LimitExceeded, code_of
from sysjobs.runtime import CallContext, Governance, Limits, Sandbox, dispatch
from sysjobs.runtime.governor import HOST_CALLS, JOBS_STARTED, LOG_BYTES, Governor, utf8_size
from sysjobs.runtime.result import LogCapture

MIB = 1024 * 1024


# ---- Governance ------------------------------------------------------------------------
def test_the_default_governance_is_what_the_readme_documents() -> None:
    assert Governance() == Governance(
        max_jobs_started=1_000, max_log_bytes=10 * MIB, max_host_calls=1_000_000
    )


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10", None, float("nan"), float("inf")])
def test_a_governance_limit_must_be_an_integer_of_at_least_zero(bad: object) -> None:
    with pytest.raises(BadRequest) as raised:
        Governance(max_jobs_started=bad)  # type: ignore[arg-type]
    assert "'max_jobs_started'" in raised.value.message and ">= 0" in raised.value.message


def test_stricter_takes_each_lower_value_and_never_loosens() -> None:
    host = Governance(max_jobs_started=10, max_log_bytes=100, max_host_calls=1000)
    app = host.stricter(max_jobs_started=3, max_log_bytes=10**30)
    assert app == Governance(max_jobs_started=3, max_log_bytes=100, max_host_calls=1000)
    assert host.stricter() == host


# ---- Governor ----------------------------------------------------------------------------
def test_a_charge_past_the_limit_raises_limit_exceeded_naming_limit_value_and_remedy() -> None:
    governor = Governor(Governance(max_jobs_started=2))
    governor.charge(JOBS_STARTED)
    governor.charge(JOBS_STARTED)
    with pytest.raises(LimitExceeded) as raised:
        governor.charge(JOBS_STARTED)
    error = raised.value
    assert code_of(error) == "limitExceeded"
    assert "start at most 2 jobs" in error.message and "maxJobsStarted = 2" in error.message
    assert "Governance(max_jobs_started=…)" in error.message
    assert "governance.maxJobsStarted in the app manifest" in error.message
    assert error.info == {"limit": "maxJobsStarted", "value": 2}
    assert governor.used(JOBS_STARTED) == 2


def test_once_a_limit_is_hit_every_later_charge_of_that_kind_fails_even_a_small_one() -> None:
    governor = Governor(Governance(max_log_bytes=100))
    governor.charge(LOG_BYTES, 60)
    with pytest.raises(LimitExceeded):
        governor.charge(LOG_BYTES, 50)  # refused whole: 110 > 100
    with pytest.raises(LimitExceeded):
        governor.charge(LOG_BYTES, 1)  # would fit, but the budget is spent for this run
    assert governor.used(LOG_BYTES) == 60
    governor.charge(HOST_CALLS)  # other budgets are untouched


def test_a_zero_limit_refuses_the_first_charge() -> None:
    with pytest.raises(LimitExceeded) as raised:
        Governor(Governance(max_host_calls=0)).charge(HOST_CALLS)
    assert "make at most 0 host calls" in raised.value.message


def test_utf8_size_counts_bytes_including_lone_surrogates() -> None:
    assert [utf8_size(s) for s in ("abc", "é", "€", "😀", "\ud800", "")] == [3, 2, 3, 4, 3, 0]


# ---- LogCapture ------------------------------------------------------------------------
def test_a_hundred_lines_of_one_mib_keep_at_most_the_byte_cap() -> None:
    limits = Limits()
    capture = LogCapture(limits)
    line = "x" * MIB
    for _ in range(100):
        capture.add(line)
    kept = sum(utf8_size(kept_line) for kept_line in capture.lines)
    assert kept == capture.kept_bytes <= limits.max_log_bytes
    assert all(utf8_size(kept_line) <= limits.max_log_line_bytes for kept_line in capture.lines)
    assert capture.dropped_lines == 100 - len(capture.lines) > 0
    heads = sum(len(kept_line.split("…")[0]) for kept_line in capture.lines)
    assert capture.dropped_bytes == 100 * MIB - heads


def test_a_long_line_is_cut_at_the_line_cap_with_a_marker_saying_how_much() -> None:
    capture = LogCapture(Limits(max_log_line_bytes=100, max_log_bytes=10_000))
    capture.add("a" * 1000)
    [kept] = capture.lines
    head, marker = kept.split("…")
    assert utf8_size(kept) <= 100 and set(head) == {"a"}
    assert marker == f" [{1000 - len(head)} more bytes cut]"
    assert capture.dropped_lines == 0 and capture.dropped_bytes == 1000 - len(head)


@pytest.mark.parametrize("char", ["é", "€", "😀", "\ud800"])
def test_a_cut_never_splits_a_character(char: str) -> None:
    capture = LogCapture(Limits(max_log_line_bytes=101, max_log_bytes=10_000))
    capture.add(char * 500)
    [kept] = capture.lines
    head = kept.split("…")[0]
    assert set(head) == {char} and utf8_size(kept) <= 101


def test_the_line_that_does_not_fit_is_cut_to_the_room_left_and_later_ones_are_counted() -> None:
    capture = LogCapture(Limits(max_log_line_bytes=1000, max_log_bytes=1500))
    for line in ["a" * 1000, "b" * 1000, "c", "d"]:
        capture.add(line)
    assert capture.lines[0] == "a" * 1000
    assert capture.lines[1].startswith("b") and capture.kept_bytes <= 1500
    assert len(capture.lines) == 2 and capture.dropped_lines == 2


def test_the_line_count_cap_still_holds() -> None:
    capture = LogCapture(Limits(max_log_lines=3))
    for i in range(10):
        capture.add(str(i))
    assert capture.lines == ["0", "1", "2"] and capture.dropped_lines == 7


# ---- in a sandbox -----------------------------------------------------------------------
def test_run_result_logs_of_twenty_one_mib_lines_stay_within_the_byte_cap() -> None:
    # Twenty lines are 20 MiB, past the governance default (raised here) and twenty times
    # the 1 MiB the result keeps: each line is cut to 64 KiB, ~16 fit, the rest are dropped.
    limits = Limits(governance=Governance(max_log_bytes=200 * MIB))
    with Sandbox(core_namespaces(), limits, pool_size=0) as sandbox:
        result = sandbox.run("var s = 'x'.repeat(1024 * 1024); for (var i = 0; i < 20; i++) log(s); 7")
    assert result.value == 7
    assert sum(utf8_size(line) for line in result.logs) <= limits.max_log_bytes
    assert len(result.logs) + result.logs_dropped == 20 and result.logs_dropped > 0
    heads = sum(len(line.split("…")[0]) for line in result.logs)
    assert result.logs_dropped_bytes == 20 * MIB - heads


def test_a_log_flood_stops_at_the_byte_limit_with_limit_exceeded() -> None:
    limits = Limits(governance=Governance(max_log_bytes=10_000))
    source = """
    var n = 0, codes = [];
    try { for (;;) { log('0123456789'); n++ } } catch (e) { codes.push(sys.exceptions.getCode(e)) }
    try { log('x') } catch (e) { codes.push(sys.exceptions.getCode(e)) }
    [n, codes]
    """
    with Sandbox(core_namespaces(), limits, pool_size=0) as sandbox:
        result = sandbox.run(source)
    assert result.value == [1000, ["limitExceeded", "limitExceeded"]]
    assert len(result.logs) == 1000


def test_a_host_call_flood_stops_at_its_limit_and_each_run_gets_its_own_budget() -> None:
    limits = Limits(governance=Governance(max_host_calls=50))
    source = "var n = 0; try { for (;;) { log(n); n++ } } catch (e) { [n, sys.exceptions.getCode(e)] }"
    with Sandbox(core_namespaces(), limits, pool_size=0) as sandbox, sandbox.session() as session:
        first, second = session.run(source), session.run(source)
    assert first.value == second.value == [50, "limitExceeded"]


def test_an_uncaught_limit_ends_the_run_with_the_limit_exceeded_code() -> None:
    limits = Limits(governance=Governance(max_host_calls=3))
    with Sandbox(core_namespaces(), limits, pool_size=0) as sandbox:
        result = sandbox.run("for (;;) log('x')")
    assert result.error is not None and result.error.code == "limitExceeded"
    assert "maxHostCalls = 3" in result.error.message and result.logs == ["x"] * 3


def test_the_dispatch_charges_every_call_a_malformed_one_too() -> None:
    table = dispatch.operation_table(core_namespaces())
    ctx = CallContext(deadline=0.0, governor=Governor(Governance(max_host_calls=2)))
    first = json.loads(dispatch.handle(table, ctx, "[1]"))
    second = json.loads(dispatch.handle(table, ctx, '{"op": "log.write", "args": {"message": "x"}}'))
    third = json.loads(dispatch.handle(table, ctx, '{"op": "log.write", "args": {"message": "x"}}'))
    assert first["err"]["code"] == "badRequest" and second == {"ok": None}
    assert third["err"]["code"] == "limitExceeded"
    assert third["err"]["info"] == {"limit": "maxHostCalls", "value": 2}
