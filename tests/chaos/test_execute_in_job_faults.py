"""executeInJob under faults, with real worker processes: a PostgreSQL restart and a worker
process killed in the middle of a split call (docs/jobs-api.md, "Exactly once").

Each item's callback writes its mark — an app-log line ``item <n>`` — and the test counts
the marks per item once the owner has finished. A restart must cost nothing: every mark
exactly once (the callback retries its own write while the database is away, as a
callback whose effect matters should). A killed worker costs at most the chunk each of its
jobs had in flight: completed chunks never run again.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import suppress

import pytest

from sysjobs.host import Host
from sysjobs.jobs import Job
from tests.chaos.audit import TALLY, fault
from tests.chaos.conftest import wait_for
from tests.chaos.test_postgres_faults import restart_server

COUNT = 400  # without step: 10 chunks of 40 in four parts
STEP = 40
#: Writes its mark, again while the database is away (up to 20 s); ~20 ms of work first,
#: so that the fault lands mid-run.
CALLBACK = """function (item) {
  var t = Date.now(); while (Date.now() - t < 20) {}
  var until = Date.now() + 20000;
  for (;;) {
    try { sys.logs.info('item ' + item); return; }
    catch (e) { if (Date.now() > until) throw e; }
  }
}"""


@pytest.fixture
def host_on(request: pytest.FixtureRequest) -> Iterator[Host]:
    url = request.getfixturevalue(request.param)
    with Host(url, pool_size=0) as opened:
        yield opened


def start(host: Host) -> str:
    source = (f"var a = []; for (var i = 1; i <= {COUNT}; i++) a.push(i); "
              f"sys.jobs.executeInJob(a, 'default', {CALLBACK})")  # fmt: skip
    result = host.run(source)
    assert result.ok, result.error
    return str(result.value)


def marks(host: Host) -> list[int]:
    lines = [e.message for e in host.engine.app_logs({"_size": 100_000})]
    return [lines.count(f"item {n}") for n in range(1, COUNT + 1)]


def marked(host: Host) -> int:
    with suppress(Exception):  # the database may be restarting
        return sum(1 for c in marks(host) if c)
    return 0


def ended(host: Host, job_id: str) -> Job:
    found: list[Job] = []

    def done() -> bool:
        with suppress(Exception):
            job = host.engine.require(job_id)
            if str(job.status) == "FINISHED":
                found.append(job)
        return bool(found)

    wait_for(done, 240, f"job {job_id} to finish")
    return found[0]


@pytest.mark.postgres
@pytest.mark.parametrize("host_on", ["private_pg_url"], indirect=True)
def test_a_postgres_restart_mid_run_leaves_every_item_marked_exactly_once(host_on: Host) -> None:
    host = host_on
    owner = start(host)
    with host.workers(2, processes=2, lease_s=5.0, relay_stderr=False):
        wait_for(lambda: marked(host) >= COUNT // 4, 120, "a quarter of the items")
        restart_server(host.engine.url)
        done = ended(host, owner)
    TALLY.jobs += 1
    assert marks(host) == [1] * COUNT
    assert done.results == {"itemsCount": COUNT, "itemsProcessed": COUNT, "itemsFailed": 0,
                            "chunks": 10}  # fmt: skip
    assert done.progress == 100


def test_a_worker_process_killed_mid_run_reruns_at_most_the_chunks_in_flight(
    db_url: str,
) -> None:
    with Host(db_url, pool_size=0) as host:
        killed_mid_run(host)


def killed_mid_run(host: Host) -> None:
    owner = start(host)
    with host.workers(2, processes=2, lease_s=1.0, relay_stderr=False) as workers:
        wait_for(lambda: marked(host) >= COUNT // 4, 120, "a quarter of the items")
        victim = workers.pids()[0]
        os.kill(victim, signal.SIGKILL)
        fault("worker SIGKILL")
        done = ended(host, owner)
    TALLY.jobs += 1
    counts = marks(host)
    assert min(counts) == 1  # every item ran
    again = sum(c - 1 for c in counts)
    assert again <= 2 * STEP  # each of the killed process's two jobs: its chunk in flight
    assert done.results is not None and done.results["itemsProcessed"] == COUNT
    assert done.progress == 100
