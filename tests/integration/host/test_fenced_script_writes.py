"""A job's script writes its log through the job's lease: a worker that lost the lease
writes nothing more, and the refused write stops the script."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from sysjobs.host import Host
from sysjobs.jobs import JobContext
from sysjobs.worker.scripts import bind_to_job


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every host and worker they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    with Host(db_url, pool_size=0) as h:
        yield h


def claimed_context(host: Host, *, lost: bool) -> JobContext:
    job = host.engine.enqueue("RUN_SCRIPT", {"_source": "1"}, label="fenced")
    (claimed,) = host.engine.leases.claim("owner-a", limit=1)
    lease = replace(claimed.lease, owner="someone-else") if lost else claimed.lease
    assert claimed.job.id == job.id
    return JobContext(host.engine, lease, claimed.job, script_runner=host.runner)


def test_a_job_scripts_log_and_log_info_go_through_its_lease(host: Host) -> None:
    ctx = claimed_context(host, lost=False)
    runner = bind_to_job(host.runner, ctx)
    assert runner is not None
    outcome = runner.run("log('one'); sys.jobs.logInfo('two'); sys.jobs.logError('three')",
                         job_id=ctx.job.id, globals={}, timeout_s=10)
    assert outcome.ok, outcome
    lines = [(e.level, e.message) for e in host.engine.logs(ctx.job.id, {})]
    assert lines == [("INFO", "one"), ("INFO", "two"), ("ERROR", "three")]


def test_after_the_lease_is_lost_the_scripts_writes_are_refused_and_it_stops(host: Host) -> None:
    ctx = claimed_context(host, lost=True)
    runner = bind_to_job(host.runner, ctx)
    assert runner is not None
    outcome = runner.run("log('late'); globalThis.after = true; 'not reached'",
                         job_id=ctx.job.id, globals={}, timeout_s=10)
    assert not outcome.ok
    assert outcome.error_code == "systemException"
    assert list(host.engine.logs(ctx.job.id, {})) == []
    assert ctx.state.lost.is_set()
