"""Every hostile script ends with its exact outcome code, run directly and run as a job,
and after each one the host is alive and the next script and the next job succeed."""

from __future__ import annotations

from typing import Any

import pytest

from sysjobs.host import Host
from sysjobs.runtime import RunResult
from sysjobs.worker.pool import WorkerPool
from tests.hostile.catalog import ALL, Hostile
from tests.hostile.conftest import CAPS, assert_host_alive, lines_of, run_job

IDS = [hostile.name for hostile in ALL]


def code_of(result: RunResult) -> str:
    if result.ok:
        return "ok"
    assert result.error is not None
    return result.error.code or result.error.name


def test_the_catalog_has_at_least_forty_distinct_scripts() -> None:
    assert len(ALL) >= 40
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("hostile", ALL, ids=IDS)
def test_direct_run_ends_with_the_exact_code(host: Host, hostile: Hostile) -> None:
    result = host.run(hostile.source, timeout_s=hostile.timeout_s)
    assert code_of(result) == hostile.code, result.error
    if hostile.code == "ok" and hostile.value is not None:
        assert result.value == hostile.value
    if hostile.message is not None:
        assert result.error is not None and hostile.message in result.error.message
    assert host.run("log('alive'); 6 * 7").value == 42


@pytest.mark.parametrize("hostile", ALL, ids=IDS)
def test_as_a_job_ends_with_the_exact_code_and_a_reason(
    host: Host, workers: WorkerPool, hostile: Hostile
) -> None:
    job = run_job(host, hostile.source, hostile.timeout_s)
    assert job.status == "FINISHED"
    results: dict[str, Any] = job.results or {}
    code = hostile.job_code or hostile.code
    if code == "ok":
        assert "error" not in results, results
        if hostile.value is not None:
            assert results == {"value": hostile.value}
    else:
        assert results["error"]["code"] == code, results
        assert job.has_errors
        reason = f"{code}: {results['error']['message']}"
        assert ("ERROR", reason) in lines_of(host, job.id)  # the job's log says why
    assert_host_alive(host)


#: Twenty lines past the cap, then a wait on itself that ends with ``timeout``: past the cap,
#: lines are dropped and the job still says how it ended. The endless flood (``huge log
#: flood`` in the catalog) spun on dropped, fenced lines until a 5 s limit (~4 s of CPU), and
#: under load it reached that limit before the cap (each line is a write: 400 of them took
#: 12-26 s at a load average of ~25). Here the wait ends the script (0.1 s, no CPU); the
#: script's own limit is only a ceiling.
FLOOD_THEN_TIMEOUT = (
    f"for (var i = 0; i < {CAPS.max_log_lines + 20}; i++) log('flood');"
    " sys.jobs.waitForJob(sys.jobs.getCurrentJobId(), ['FINISHED'], 100)"
)


def test_a_log_flood_is_capped_per_job_and_the_job_is_told(host: Host, workers: WorkerPool) -> None:
    job = run_job(host, FLOOD_THEN_TIMEOUT, timeout_s=30.0)
    lines = lines_of(host, job.id)
    notice = ("ERROR", f"Log limit reached: a job keeps at most {CAPS.max_log_lines} log lines; "
              "further lines of this job are dropped.")  # fmt: skip
    assert lines[: CAPS.max_log_lines] == [("INFO", "flood")] * CAPS.max_log_lines
    assert lines[CAPS.max_log_lines] == notice
    assert lines[-1][1].startswith("timeout: ")  # how it ended is still written
    assert len(lines) == CAPS.max_log_lines + 2 and job.has_errors


def test_a_log_info_flood_is_capped_the_same_way(host: Host, workers: WorkerPool) -> None:
    # It ends by itself: the limit is only a ceiling (under load 300 fenced writes took
    # longer than 5 s, and the run ended with timeout instead).
    job = run_job(host, "for (var i = 0; i < 300; i++) sys.jobs.logInfo('line ' + i); 'done'", 30.0)
    lines = lines_of(host, job.id)
    assert job.results == {"value": "done"} and len(lines) == CAPS.max_log_lines + 1
    assert lines[-1][1].startswith("Log limit reached")


def test_one_huge_log_line_is_cut_and_says_so(host: Host, workers: WorkerPool) -> None:
    job = run_job(host, "log('y'.repeat(2000000)); 'logged'", 5.0)
    [(level, message)] = lines_of(host, job.id)
    assert level == "INFO"
    cut = 2_000_000 - CAPS.max_message_chars
    assert message == "y" * CAPS.max_message_chars + f"… [{cut} more characters cut]"


def test_a_huge_result_is_replaced_by_a_marker_and_an_error_line(host: Host, workers: WorkerPool) -> None:
    job = run_job(host, "'z'.repeat(3000000)", 5.0)
    size = len('{"value": ""}') + 3_000_000
    assert job.results == {"truncated": True, "bytes": size, "limit": CAPS.max_result_bytes}
    assert job.has_errors
    assert lines_of(host, job.id) == [
        ("ERROR", f"Results too large: {size} bytes of JSON, the limit is {CAPS.max_result_bytes} "
                  "bytes; they were not kept.")
    ]  # fmt: skip


def test_pollution_does_not_leak_into_the_next_job(host: Host, workers: WorkerPool) -> None:
    run_job(host, "Object.prototype.leak = 'yes'; Array.prototype.push = null; globalThis.x = 1")
    job = run_job(host, "[typeof ({}).leak, typeof [].push, typeof x]")
    assert job.results == {"value": ["undefined", "function", "undefined"]}


def test_wait_for_job_on_itself_times_out_with_timeout(host: Host, workers: WorkerPool) -> None:
    job = run_job(host, "sys.jobs.waitForJob(sys.jobs.getCurrentJobId(), 'FINISHED', 300)")
    assert (job.results or {})["error"]["code"] == "timeout"
    assert "its status is RUNNING" in (job.results or {})["error"]["message"]


def test_wait_for_job_on_itself_past_the_script_limit_is_cut_by_the_limit(
    host: Host, workers: WorkerPool
) -> None:
    source = ("try { sys.jobs.waitForJob(sys.jobs.getCurrentJobId(), ['FINISHED'], 3600000) }"
              " catch (e) { sys.exceptions.getCode(e) + ': ' + e.message }")  # fmt: skip
    job = run_job(host, source, timeout_s=1.5)
    value = (job.results or {})["value"]
    assert value.startswith("timeout: ") and "before the script's time limit" in value
