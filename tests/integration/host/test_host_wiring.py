"""The Host wires engine, app, bindings and workers: what only the whole can show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.app.status import AppStatus
from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher
from tests.integration.engine.test_stopped_app_claims import PausedPool


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every host and worker they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def host(db_url: str, launcher: Launcher) -> Iterator[Host]:
    with Host(db_url, pool_size=1, launcher=launcher) as h:
        yield h


def test_while_the_app_is_stopped_its_jobs_wait_and_system_jobs_still_run(host: Host) -> None:
    with host.workers(2):
        stopped = host.engine.wait(host.app.stop_app(), ["FINISHED"], 30)
        assert stopped.status == "FINISHED" and not host.app.is_running()
        action = host.app.execute_action("companies", {}, "logSomething", {"param1": "a", "param2": "b"})
        # A system job enqueued after the action, claimed and run while it waits: the worker's
        # claims take any claimable job up to its free slots (two, both idle here), so the
        # claim that took this one passed over the action — the engine's own proof that a
        # claim round went by, where a timer only hoped one had.
        passed = host.engine.wait(host.app.stop_app(), ["FINISHED"], 30)
        assert passed.status == "FINISHED"
        with pytest.raises(Exception) as waited:
            host.engine.wait(action, ["RUNNING", "FINISHED"], 0)
        assert getattr(waited.value, "code", None) == "timeout"
        assert [e for e in host.engine.events(action) if e.to_status == "RUNNING"] == []
        assert host.engine.require(action).status == "PENDING"
        started = host.engine.wait(host.app.start_app(), ["FINISHED"], 30)
        assert started.status == "FINISHED"
        assert host.engine.wait(action, ["FINISHED"], 30).status == "FINISHED"


def test_an_action_claimed_while_another_process_stops_the_app_waits_and_runs_once_resumed(
    host: Host, db_url: str
) -> None:
    """The race behind the test above, made to happen: the claimer read the app's status
    (running), then paused; meanwhile STOP_APP finished in another process (whose write this
    process has not heard); then the claim ran. The job goes back to waiting, unrun."""
    action = host.app.execute_action("companies", {}, "logSomething", {"param1": "a", "param2": "b"})
    with Host(db_url, pool_size=0) as other:
        stop = lambda: other.app.status.set_app(AppStatus.STOPPED)  # noqa: E731 (STOP_APP's write)
        pool = PausedPool(host.engine, stop, script_runner=host.runner, concurrency=2)
        assert pool.dispatch_once(True) == []
    waiting = host.engine.require(action)
    assert (waiting.status, waiting.attempt, waiting.started_at) == ("PENDING", 0, None)
    assert not host.app.is_running()
    host.app.status.set_app(AppStatus.STARTED)  # START_APP's write
    with host.workers(1, in_process=True):
        done = host.engine.wait(action, ["FINISHED"], 30)
    assert (done.status, done.attempt, done.has_errors) == ("FINISHED", 1, False)
    claims = [e for e in host.engine.events(action) if e.to_status == "RUNNING"]
    assert len(claims) == 1  # it ran once


def test_a_script_job_runs_with_the_full_sys_global(host: Host) -> None:
    with host.workers(1):
        job = host.run_in_job(
            "log(typeof sys.jobs.find, typeof sys.data.find, typeof sys.commons.ResultSet,"
            " typeof sys.exceptions.getCode); sys.data.count('companies', {})",
            label="wiring", wait_s=60,
        )
    assert job.status == "FINISHED" and not job.has_errors
    assert job.results == {"value": 5}
    assert [entry.message for entry in host.engine.logs(job.id, {})] == [
        "function function function function"
    ]


def test_run_outside_a_job_has_no_current_job(host: Host) -> None:
    result = host.run("[sys.jobs.getCurrentJobId(), sys.jobs.getCurrentJob()]")
    assert result.value == [None, None]
