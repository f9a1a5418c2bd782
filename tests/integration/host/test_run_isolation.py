"""One job's leftover async code never writes into the next job run on the same worker.

The attack: a job script returns at once but leaves an async loop of host calls that log
and start jobs. On a one-slot worker the next job would get the recycled context, and the
loop's later calls would run under that job's call context (its log, its children). The
loop's job must end with ``timeout``; the next job's log holds only its own line, and no
job is ever started with the next job as its parent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sysjobs.host import Host
from sysjobs.worker.pool import WorkerPool

PAIRS = 200 if os.environ.get("SYSJOBS_CHAOS_HEAVY") else 15

LEFTOVER = (
    "(async function () { for (;;) { await null;"
    " log('leaked'); sys.data.executeAction('companies', {}, 'logSomething',"
    " {param1: 'a', param2: 'b'}); } })(); 'returned'"
)
DONE = ("FINISHED", "STOPPED", "CANCELED")


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    with Host(db_url, pool_size=0) as h:
        yield h


def test_a_jobs_leftover_async_calls_never_reach_the_next_job(host: Host) -> None:
    pairs = []
    for i in range(PAIRS):
        leaky = host.start_script_job(LEFTOVER, label=f"leaky {i}", timeout_s=0.2)
        clean = host.start_script_job(f"log('clean {i}')", label=f"clean {i}")
        pairs.append((leaky.id, clean.id))
    with WorkerPool(host.engine, concurrency=1, script_runner=host.runner):
        for leaky_id, clean_id in pairs:
            host.engine.wait(leaky_id, DONE, 120)
            host.engine.wait(clean_id, DONE, 120)
    for i, (_, clean_id) in enumerate(pairs):
        clean_lines = [entry.message for entry in host.engine.logs(clean_id, {})]
        assert clean_lines == [f"clean {i}"], f"pair {i}: {clean_lines}"
    started = list(host.engine.find({"type": "EXECUTE_ACTION"}))
    clean_ids = {clean_id for _, clean_id in pairs}
    assert not [job.id for job in started if job.parent_id in clean_ids]
