"""Lone UTF-16 surrogates in what a script job leaves behind, on SQLite and PostgreSQL.

A script hands text in through ``sys.jobs.logInfo`` → refused with ``badRequest`` naming
``message`` (the script can catch it). Text the host writes on the script's behalf — the
error a script threw, a ``log()`` line, the script's results — is kept with each lone
surrogate as the six characters ``\\udXXX``. Either way the job ends with the script's own
outcome: never "Job failed: UnicodeEncodeError…", never ``systemException``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher


@pytest.fixture(scope="module")
def host(module_db_url: str, launcher: Launcher) -> Iterator[Host]:
    """One Host and one worker process for the module's tests: each reads back only its own
    job, and starting a worker process per test was most of a test's CPU. The worker
    recycles a context between jobs only when proven clean, as it does in production."""
    with Host(module_db_url, pool_size=1, launcher=launcher) as h, h.workers(1):
        yield h


def run(host: Host, source: str) -> tuple[object, list[str]]:
    job = host.run_in_job(source, label="surrogates", wait_s=60)
    assert job.status == "FINISHED"
    return job.results, [f"{e.level} {e.message}" for e in host.engine.logs(job.id, {})]


def test_an_error_thrown_with_a_lone_surrogate_is_the_jobs_error(host: Host) -> None:
    results, lines = run(host, "throw new Error('x\\ud800')")
    assert results == {"error": {"code": "Error", "message": "x\\ud800"}}
    assert lines == ["ERROR Error: x\\ud800"]


def test_a_log_line_with_a_lone_surrogate_is_kept_escaped(host: Host) -> None:
    results, lines = run(host, "log('a\\udfff', {k: 'v\\ud800'}); 1")
    assert results == {"value": 1}
    assert lines == ['INFO a\\udfff {"k":"v\\ud800"}']


def test_results_with_a_lone_surrogate_are_kept_escaped(host: Host) -> None:
    results, lines = run(host, "({r: 'a\\ud800', ['k\\udc00']: ['\\ud83d\\ude00']})")
    assert results == {"value": {"r": "a\\ud800", "k\\udc00": ["😀"]}}
    assert lines == []


def test_sys_jobs_log_info_refuses_a_lone_surrogate_with_bad_request(host: Host) -> None:
    results, lines = run(host, "try { sys.jobs.logInfo('m\\ud800'); 'logged' }"
                               " catch (e) { sys.exceptions.getCode(e) }")  # fmt: skip
    assert results == {"value": "badRequest"} and lines == []


# ---- NUL: PostgreSQL cannot turn "\u0000" into text ------------------------------------
# A result or thrown error holding NUL made every attempt to end the job fail on
# PostgreSQL: the job stayed RUNNING, its worker retrying forever, and the ends batched
# with it (other jobs', other apps') failed too. NUL is written as U+FFFD, as in log lines.


def test_results_with_a_nul_character_end_the_job_with_it_replaced(host: Host) -> None:
    results, lines = run(host, "({r: 'a\\u0000b', ['k\\u0000']: ['\\\\u0000']})")
    assert results == {"value": {"r": "a\ufffdb", "k\ufffd": ["\\u0000"]}}
    assert lines == []


def test_an_error_thrown_with_a_nul_character_is_the_jobs_error(host: Host) -> None:
    results, _ = run(host, "throw new Error('x\\u0000\\ud800')")
    assert results == {"error": {"code": "Error", "message": "x\ufffd\\ud800"}}


def test_a_stack_a_script_made_with_nul_ends_the_job(host: Host) -> None:
    source = "Error.prepareStackTrace = () => 'a\\u0000\\ud800'; null.x"
    results, lines = run(host, source)
    assert results == {"error": {"code": "TypeError",
                                 "message": "Cannot read properties of null (reading 'x')"}}
    assert len(lines) == 1 and lines[0].startswith("ERROR TypeError")


def test_a_huge_stack_the_script_made_ends_the_job_with_its_line_capped(host: Host) -> None:
    source = ("var e = new Error('m'); Error.prepareStackTrace = () => 'a'.repeat(5e6);"
              "e.stack; throw e")  # fmt: skip
    results, lines = run(host, source)
    assert results == {"error": {"code": "Error", "message": "m"}}
    assert len(lines) == 1 and len(lines[0]) < 1_100_000


def test_execute_in_job_refuses_items_holding_nul_with_bad_request(host: Host) -> None:
    source = ("var out = [];"
              "[['a\\u0000b'], [{'k\\u0000': 1}], [{k: ['\\u0000']}]].forEach(function (items) {"
              "  try { sys.jobs.executeInJob(items, 'default', function (x) {}); out.push('started') }"
              "  catch (e) { out.push(sys.exceptions.getCode(e) + ': ' + e.message) } });"
              "out")  # fmt: skip
    results, lines = run(host, source)
    assert isinstance(results, dict) and len(results["value"]) == 3, results
    for said in results["value"]:
        assert said.startswith("badRequest: Invalid value ") and "parameter 'items'" in said, said
        assert "NUL" in said, said
    assert lines == []
