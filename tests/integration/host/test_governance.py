"""Governance on a whole Host (SQLite and PostgreSQL): what one script run may start, log and
call, per Host and per app manifest, run directly and as a job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.host import Host
from sysjobs.runtime import Governance, Limits
from sysjobs.runtime.launcher import Launcher

#: A query that matches no company: each DELETE_RECORDS job it starts deletes nothing.
NOTHING = "{name: '\"no such company\"'}"

STARTERS = {
    "executeAction": "sys.data.executeAction('companies', " + NOTHING + ", 'countByType', {})",
    "delete": "sys.data.delete('companies', " + NOTHING + ")",
    "importRecords": "sys.data.importRecords('companies', FILE_ID)",
}


def flood(call: str) -> str:
    """A script that repeats ``call`` until it throws; then tries once more."""
    return f"""
    var n = 0, codes = [], message = null;
    try {{ for (;;) {{ {call}; n++ }} }}
    catch (e) {{ codes.push(sys.exceptions.getCode(e)); message = sys.exceptions.getMessage(e) }}
    try {{ {call}; n++ }} catch (e) {{ codes.push(sys.exceptions.getCode(e)) }}
    [n, codes, message]
    """


def job_count(host: Host) -> int:
    return host.engine.find({"_size": 1}).count()


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every host and worker they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def host(db_url: str, launcher: Launcher) -> Iterator[Host]:
    governance = Governance(max_jobs_started=7)
    with Host(db_url, pool_size=1, governance=governance, launcher=launcher) as h:
        yield h


@pytest.mark.parametrize("starter", sorted(STARTERS))
def test_a_script_enqueuing_jobs_in_a_loop_stops_at_the_limit_with_limit_exceeded(
    host: Host, starter: str
) -> None:
    file_id = host.app.files.put("companies.csv", b"name\nAcme\n")
    source = flood(STARTERS[starter].replace("FILE_ID", repr(file_id)))
    before = job_count(host)
    result = host.run(source, timeout_s=60)
    n, codes, message = result.value
    assert (n, codes) == (7, ["limitExceeded", "limitExceeded"])
    assert "start at most 7 jobs" in message and "maxJobsStarted = 7" in message
    assert job_count(host) - before == 7  # exactly the limit was created, not one more


def test_each_run_has_its_own_jobs_budget(host: Host) -> None:
    source = flood(STARTERS["delete"])
    assert host.run(source).value[0] == 7
    assert host.run(source).value[0] == 7
    assert job_count(host) == 14


def test_a_script_job_that_floods_enqueues_ends_with_limit_exceeded(host: Host) -> None:
    with host.workers(1):
        job = host.run_in_job(f"for (;;) {STARTERS['delete']}", wait_s=60)
    assert (job.results or {})["error"]["code"] == "limitExceeded", job.results
    assert job.has_errors
    children = host.engine.find({"type": "DELETE_RECORDS", "_size": 100}).count()
    assert children == 7


def test_a_log_flood_into_another_jobs_log_stops_at_the_byte_limit(db_url: str) -> None:
    with Host(db_url, pool_size=1, governance=Governance(max_log_bytes=1000)) as host:
        other = host.start_script_job("1", label="victim")
        result = host.run(flood(f"sys.jobs.logInfo({other.id!r}, '0123456789')"))
        n, codes, _ = result.value
        assert (n, codes) == (100, ["limitExceeded", "limitExceeded"])
        written = [entry.message for entry in host.engine.logs(other.id, {"_size": 1000})]
        assert sum(len(message) for message in written) == 1000


def test_job_log_lines_and_log_share_the_byte_budget(db_url: str) -> None:
    with Host(db_url, pool_size=1, governance=Governance(max_log_bytes=100)) as host:
        other = host.start_script_job("1", label="victim")
        source = f"""
        sys.jobs.findById({other.id!r}).logError('x'.repeat(60));
        try {{ log('y'.repeat(50)); 'written' }} catch (e) {{ sys.exceptions.getCode(e) }}
        """
        assert host.run(source).value == "limitExceeded"
        assert [entry.message for entry in host.engine.logs(other.id, {})] == ["x" * 60]


def test_a_host_call_flood_stops_at_its_limit(db_url: str) -> None:
    with Host(db_url, pool_size=1, governance=Governance(max_host_calls=500)) as host:
        result = host.run(flood("sys.jobs.getCurrentJobId()"))
    n, codes, message = result.value
    assert (n, codes) == (500, ["limitExceeded", "limitExceeded"])
    assert "make at most 500 host calls" in message and "maxHostCalls = 500" in message


def _app(tmp_path: Path, governance: str) -> Path:
    (tmp_path / "app.yaml").write_text(
        "name: governed\n"
        "entities:\n"
        "  things:\n"
        "    fields:\n"
        "      name: {type: text}\n"
        f"governance: {governance}\n"
    )
    return tmp_path


def test_the_app_manifest_tightens_the_host_default(db_url: str, tmp_path: Path) -> None:
    app = _app(tmp_path, "{maxJobsStarted: 3, maxHostCalls: 100}")
    with Host(db_url, app, pool_size=1) as host:
        assert host.sandbox.limits.governance == Governance(max_jobs_started=3, max_host_calls=100)
        n, codes, message = host.run(flood("sys.data.delete('things', {})")).value
        assert (n, codes) == (3, ["limitExceeded", "limitExceeded"])
        assert "maxJobsStarted = 3" in message


def test_an_app_cannot_loosen_the_host_limit(db_url: str, tmp_path: Path) -> None:
    app = _app(tmp_path, "{maxJobsStarted: 100000}")
    with Host(db_url, app, pool_size=1, governance=Governance(max_jobs_started=2)) as host:
        assert host.run(flood("sys.data.delete('things', {})")).value[0] == 2


def test_the_host_governance_can_come_with_its_limits(db_url: str) -> None:
    limits = Limits(governance=Governance(max_host_calls=10))
    with Host(db_url, pool_size=1, limits=limits) as host:
        assert host.run(flood("sys.jobs.getCurrentJobId()")).value[0] == 10


def test_saving_records_that_start_listener_jobs_counts_those_jobs(host: Host) -> None:
    """The demo app's ``onCompanyCreated`` listener runs as a job for every new company."""
    save = "var r = sys.data.createRecord('companies'); r.field('name').val('c' + n); sys.data.save(r)"
    companies = host.app.records.count("companies", {})
    n, codes, message = host.run(flood(save), timeout_s=60).value
    assert (n, codes) == (7, ["limitExceeded", "limitExceeded"]) and "maxJobsStarted" in message
    listener_jobs = host.engine.find({"type": "EXECUTE_LISTENER", "_size": 100}).count()
    assert listener_jobs == 7 and host.app.records.count("companies", {}) == companies + 7


def test_saving_records_without_listeners_is_not_a_job_start(host: Host) -> None:
    save = "var r = sys.data.createRecord('contacts'); r.field('firstName').val('x'); sys.data.save(r)"
    result = host.run(f"for (var n = 0; n < 20; n++) {{ {save} }} n", timeout_s=60)
    assert result.value == 20 and job_count(host) == 0
