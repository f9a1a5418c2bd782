"""What a script job asks of the database while its script runs: only what the script asks.

A worker runs a RUN_SCRIPT job's script with the ``sys`` global bound to the job (its app,
its data, its jobs), and nothing of that is read up front: a script that calls no binding
makes no statement between the start and the end of its run, on either database: what
the worker writes for it (the end, the results) is the engine's, as for any other job.
Were a binding read per run (the app's status, a session opened for ``sys.data``), every
no-op job would pay a round trip for it — on PostgreSQL, where a busy worker's claims and
ends are one round trip for many jobs, more than all its other database work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.host import Host
from sysjobs.runtime import RunResult
from sysjobs.runtime.launcher import Launcher
from sysjobs.worker.scripts import SandboxScriptRunner


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test: an empty migrated database is enough."""
    return reused_db_url


@pytest.fixture
def host(db_url: str, launcher: Launcher) -> Iterator[Host]:
    with Host(db_url, pool_size=1, launcher=launcher) as h:
        yield h


def _statements_during_runs(
    host: Host, sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[list[str]], list[Any]]:
    """Run ``sources`` as script jobs on one in-process slot; for each, the statements made
    by the worker while its script ran (from any thread: a binding's host call may be
    served off the slot's thread), and the finished jobs' results. The test's own thread
    (waiting for the jobs) and the pool's heartbeat (the workers row, the lease renewal)
    are not the script's."""
    waiter = threading.get_ident()
    window: list[list[str]] = []  # the running script's statements, while it runs
    seen: list[list[str]] = []
    run_result = SandboxScriptRunner.run_result

    def counted(self: SandboxScriptRunner, *args: Any, **kwargs: Any) -> RunResult:
        window.append([])
        try:
            return run_result(self, *args, **kwargs)
        finally:
            seen.append(window.pop())

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        ours = threading.get_ident() == waiter or threading.current_thread().name in ENGINE_THREADS
        if window and not ours and not _heartbeat(statement):
            window[-1].append(statement)

    monkeypatch.setattr(SandboxScriptRunner, "run_result", counted)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        jobs = [host.start_script_job(source, label="statements") for source in sources]
        with host.workers(1, in_process=True):
            done = [host.engine.wait(job.id, ["FINISHED"], 60) for job in jobs]
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    return seen, [job.results for job in done]


#: The engine's own threads, whose work keeps its pace whatever a script does: the pool's
#: heartbeat (the workers row, leases, overdue stops), and the wake-up listeners (LISTEN on
#: PostgreSQL, the WAL watch on SQLite), which the test's first wait starts.
ENGINE_THREADS = frozenset({"sysjobs-beat", "sysjobs-pg-listen", "sysjobs-wal-watch"})


def _heartbeat(statement: str) -> bool:
    return "workers" in statement or "WITH held AS" in statement


def test_a_no_op_script_job_makes_no_statement_while_its_script_runs(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen, results = _statements_during_runs(host, ["1", "1", "'no binding'"], monkeypatch)
    assert results == [{"value": 1}, {"value": 1}, {"value": "no binding"}]
    assert seen == [[], [], []]


def test_a_script_job_that_reads_its_data_makes_that_read_while_it_runs(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counting above sees a binding's statements: the same slot's next job reads the
    app's records, and its statements fall in its run; the no-op job before it still has none."""
    seen, results = _statements_during_runs(
        host, ["1", "sys.data.count('companies', {})"], monkeypatch
    )
    assert results == [{"value": 1}, {"value": 5}]
    assert seen[0] == []
    assert any("app_records" in statement for statement in seen[1]), seen[1]
