"""Every way a running job starts another records it as the parent (SQLite and PostgreSQL):
``sys.data.executeAction``, ``delete``, ``importRecords``, a record saved or created in a
group commit that starts listener jobs, ``sys.jobs.executeInJob`` — and a job started
outside any job is a root."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.host import Host
from sysjobs.jobs import EngineSettings, Job
from sysjobs.runtime.launcher import Launcher

NOTHING = "{name: '\"no such company\"'}"

SCRIPT = (
    """
var started = [];
started.push(sys.data.executeAction('companies', """
    + NOTHING
    + """, 'countByType', {}));
started.push(sys.data.delete('companies', """
    + NOTHING
    + """));
started.push(sys.jobs.executeInJob([1, 2], 'default', function (item) { log(item); }));
started.push(sys.data.importRecords('companies', FILE_ID));
var saved = sys.data.createRecord('companies');
saved.field('name').val('Tree Co');
sys.data.save(saved);
var grouped = sys.data.createRecord('companies');
grouped.field('name').val('Grouped Co');
sys.data.save(grouped);
started
"""
)


@pytest.fixture(scope="module")
def host(module_db_url: str, launcher: Launcher) -> Iterator[Host]:
    """One host and its worker process for the module's tests on each database: each test
    reads only the tree of the jobs it started, and a worker process per test was most of
    its CPU. The test whose script never ends has a host of its own."""
    with Host(module_db_url, launcher=launcher) as opened, opened.workers(1):
        yield opened


def _children(host: Host, job_id: str) -> list[Job]:
    jobs, total = host.engine.tree_jobs(job_id, children_only=True, size=100)
    assert total == len(jobs)
    return jobs


def test_every_job_a_running_script_starts_is_its_child(host: Host) -> None:
    file_id = host.app.files.put("companies.csv", b"name\nImported Co\n")
    job = host.start_script_job(SCRIPT.replace("FILE_ID", repr(file_id)))
    host.engine.wait(job.id, "FINISHED", 120)
    children = _children(host, job.id)
    types = sorted(c.type for c in children)
    assert types == ["DELETE_RECORDS", "EXECUTE_ACTION", "EXECUTE_IN_JOB",
                     "EXECUTE_LISTENER", "EXECUTE_LISTENER", "IMPORT_RECORDS"]  # fmt: skip
    assert {(c.parent_id, c.root_id) for c in children} == {(job.id, job.id)}
    info = host.engine.tree_info([job])[job.id]
    assert info.children == 6 and info.parent is None and info.root is None


def test_a_job_started_by_a_child_has_the_childs_parent_and_the_same_root(host: Host) -> None:
    inner = "sys.data.executeAction('companies', " + NOTHING + ", 'countByType', {})"
    outer = f"sys.jobs.executeInJob([1], 'default', function (item) {{ {inner}; }})"
    job = host.start_script_job(outer)
    host.engine.wait(job.id, "FINISHED", 120)
    (in_job,) = _children(host, job.id)
    host.engine.wait(in_job.id, "FINISHED", 120)
    (action,) = _children(host, in_job.id)
    assert action.type == "EXECUTE_ACTION"
    assert (action.parent_id, action.root_id) == (in_job.id, job.id)


def test_a_script_run_outside_a_job_starts_root_jobs(host: Host) -> None:
    result = host.run("sys.data.executeAction('companies', " + NOTHING + ", 'countByType', {})")
    assert result.ok, result.error
    started = host.engine.require(str(result.value))
    assert started.parent_id is None and started.root_id is None


def test_a_script_that_keeps_starting_jobs_cannot_escape_its_trees_cancel(
    own_db_url: str, launcher: Launcher
) -> None:
    """The script starts actions in an endless loop; its job is canceled while it does: every
    job it started, before or after the cancel landed, ends CANCELED — none runs."""
    action = "sys.data.executeAction('companies', " + NOTHING + ", 'countByType', {})"
    loop = f"var first = {action}; sys.jobs.logInfo(first); for (;;) {{ {action}; }}"
    settings = EngineSettings(stop_grace_s=0.5)
    with Host(own_db_url, settings=settings, launcher=launcher) as host:
        with host.workers(1):
            job = host.start_script_job(loop, timeout_s=600)
            host.engine.wait(job.id, "RUNNING", 60)
            (first,) = _first_log_lines(host, job.id)
            host.engine.cancel(job.id)
            host.engine.wait(job.id, "CANCELED", 60)
        started, total = host.engine.tree_jobs(job.id, size=100_000)
    assert total == len(started) and first in {j.id for j in started}
    assert {j.status for j in started} == {"CANCELED"}


def _first_log_lines(host: Host, job_id: str) -> list[str]:
    """The job's first log line, once written (waits on the job's own wake-ups)."""
    from sysjobs.jobs.waiting import wait_until

    def read() -> list[str] | None:
        lines = [e.message for e in host.engine.logs(job_id, {"_size": 1})]
        return lines or None

    found = wait_until(read, hub=host.engine.hub, keys=[f"job:{job_id}"], timeout_s=60,
                       poll=host.engine.backend.poll_interval)  # fmt: skip
    assert found is not None
    return found
