"""waitForJobs(jobIds, desiredStatus, maxTimeToWait) — issue 20, read in docs/jobs-api.md.

One test per sentence of that page, on SQLite and PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import pytest

from sysjobs.jobs import Engine
from tests.integration.engine.helpers import once_waiting

from .helpers import JS, Jobs
from .test_wait_for_job import UNKNOWN, WAIT_STATUSES


def _ids(*ids: str) -> str:
    return "[" + ", ".join(f"'{i}'" for i in ids) + "]"


def test_returns_when_every_job_reaches_the_status(js: JS, jobs: Jobs) -> None:
    a, b = jobs.pending(), jobs.pending()

    def cancel_both() -> None:
        jobs.cancel(a)
        jobs.cancel(b)

    with once_waiting([f"job:{a}", f"job:{b}"], cancel_both):
        js.run_ok(f"sys.jobs.waitForJobs({_ids(a, b)}, 'CANCELED', 10000)")
    assert {str(jobs.get(i).status) for i in (a, b)} == {"CANCELED"}


def test_keeps_waiting_while_one_job_is_not_there_yet(js: JS, jobs: Jobs) -> None:
    done, waiting = jobs.canceled(), jobs.pending()
    code, message = js.error(f"sys.jobs.waitForJobs({_ids(done, waiting)}, 'CANCELED', 50)")
    assert code == "timeout"
    assert waiting in message and "PENDING" in message and done not in message


def test_returns_when_every_job_reaches_one_of_the_statuses(js: JS, jobs: Jobs) -> None:
    a, b = jobs.finished(), jobs.pending()
    with once_waiting([f"job:{a}", f"job:{b}"], lambda: jobs.cancel(b)):
        js.run_ok(f"sys.jobs.waitForJobs({_ids(a, b)}, ['FINISHED', 'CANCELED'], 10000)")


@pytest.mark.parametrize("status", WAIT_STATUSES)
def test_valid_statuses(js: JS, jobs: Jobs, status: str) -> None:
    a, b = jobs.in_status(status), jobs.in_status(status)
    js.run_ok(f"sys.jobs.waitForJobs({_ids(a, b)}, '{status}', 1000)")


def test_a_job_counts_once_seen_in_the_status_even_if_it_moves_on(
    jobs_engine: Engine, jobs: Jobs
) -> None:
    """Seen RUNNING, then canceled while the other job is still PENDING: still counted."""
    ran, later_job = jobs.running(), jobs.pending()

    def move() -> None:
        jobs_engine.cancel(ran)  # leaves RUNNING for CANCELING
        jobs_engine.cancel(later_job)

    with once_waiting([f"job:{ran}", f"job:{later_job}"], move):
        found = jobs_engine.wait_all([ran, later_job], ["RUNNING", "CANCELED"], 10)
    assert [j.id for j in found] == [ran, later_job]


def test_one_wait_watches_every_id_at_once(jobs_engine: Engine, jobs: Jobs) -> None:
    """The hub sees one watch holding every id's key while the single wait blocks."""
    a, b = jobs.pending(), jobs.pending()
    seen: list[set[str]] = []

    def look_then_cancel() -> None:
        seen.append(set(jobs_engine.hub._watchers))
        jobs.cancel(a)
        jobs.cancel(b)

    with once_waiting([f"job:{a}", f"job:{b}"], look_then_cancel):
        jobs_engine.wait_all([a, b], "CANCELED", 10)
    assert {f"job:{a}", f"job:{b}"} <= seen[0]


def test_duplicate_ids_count_once(js: JS, jobs: Jobs) -> None:
    a = jobs.finished()
    js.run_ok(f"sys.jobs.waitForJobs({_ids(a, a, a)}, 'FINISHED', 1000)")


def test_an_empty_array_returns_at_once(js: JS) -> None:
    js.run_ok("sys.jobs.waitForJobs([], 'FINISHED', 60000)")


def test_throws_timeout_if_maximum_wait_time_is_reached(js: JS, jobs: Jobs) -> None:
    a, b = jobs.pending(), jobs.pending()
    code, message = js.error(f"sys.jobs.waitForJobs({_ids(a, b)}, 'FINISHED', 50)")
    assert code == "timeout"
    assert a in message and b in message and "2 of 2 jobs" in message


def test_a_timeout_names_at_most_five_jobs(js: JS, jobs: Jobs) -> None:
    ids = [jobs.pending() for _ in range(7)]
    code, message = js.error(f"sys.jobs.waitForJobs({_ids(*ids)}, 'FINISHED', 50)")
    assert code == "timeout" and "and 2 more" in message and ids[6] not in message


def test_the_timeout_can_be_caught_with_its_code(js: JS, jobs: Jobs) -> None:
    a = jobs.pending()
    src = (f"try {{ sys.jobs.waitForJobs({_ids(a)}, 'FINISHED', 100); }}"
           " catch (e) { log(sys.exceptions.getCode(e)); }")
    assert js.logs(src) == ["timeout"]


def test_never_outlives_the_scripts_own_deadline(js: JS, jobs: Jobs) -> None:
    a, b = jobs.pending(), jobs.pending()
    src = (f"try {{ sys.jobs.waitForJobs({_ids(a, b)}, 'FINISHED', 600000); }}"
           " catch (e) { log(sys.exceptions.getCode(e) + ' ' + e.message); }")
    (line,) = js.logs(src, timeout_s=0.75)
    assert line.startswith("timeout ") and "before the script's time limit" in line


@pytest.mark.parametrize(
    "ids",
    ["'0123456789abcdef01234567'", "null", "undefined", "42", "{}", "['zzz']", "[42]",
     "[null]", "[[]]", "['\\ud800']", "['" + "a" * 1_000_000 + "']", "[,]",
     "new Array(1001).fill('0123456789abcdef01234567')"],
)  # fmt: skip
def test_bad_request_if_job_ids_is_invalid(js: JS, ids: str) -> None:
    code, message = js.error(f"sys.jobs.waitForJobs({ids}, 'FINISHED', 10)")
    assert code == "badRequest" and "'jobIds'" in message
    assert len(message) < 1000


def test_bad_request_if_an_id_is_nan(js: JS) -> None:
    """NaN never reaches the binding: the bridge refuses it while encoding the call."""
    assert js.error("sys.jobs.waitForJobs([NaN], 'FINISHED', 10)")[0] == "badRequest"


def test_bad_request_if_one_id_is_invalid_among_good_ones(js: JS, jobs: Jobs) -> None:
    code, message = js.error(f"sys.jobs.waitForJobs(['{jobs.pending()}', 'x'], 'FINISHED', 10)")
    assert code == "badRequest" and "'jobIds'" in message and "'x'" in message


def test_a_thousand_ids_are_accepted(js: JS, jobs: Jobs) -> None:
    a = jobs.finished()
    js.run_ok(f"sys.jobs.waitForJobs(new Array(1000).fill('{a}'), 'FINISHED', 1000)")


@pytest.mark.parametrize("desired", ["'DONE'", "['FINISHED', 'DONE']", "[]", "42", "null"])
def test_bad_request_if_desired_status_is_invalid(js: JS, jobs: Jobs, desired: str) -> None:
    code, message = js.error(f"sys.jobs.waitForJobs(['{jobs.pending()}'], {desired}, 10)")
    assert code == "badRequest" and "'desiredStatus'" in message


@pytest.mark.parametrize(
    "max_time", ["'soon'", "-1", "undefined", "NaN", "Infinity", "-Infinity", "true"]
)
def test_bad_request_if_max_time_to_wait_is_invalid(js: JS, jobs: Jobs, max_time: str) -> None:
    code, message = js.error(f"sys.jobs.waitForJobs(['{jobs.pending()}'], 'FINISHED', {max_time})")
    assert code == "badRequest" and "'maxTimeToWait'" in message


def test_not_found_if_one_id_is_unknown(js: JS, jobs: Jobs) -> None:
    code, message = js.error(
        f"sys.jobs.waitForJobs(['{jobs.finished()}', '{UNKNOWN}'], 'FINISHED', 60000)"
    )
    assert code == "notFound" and UNKNOWN in message
