"""``Engine.kill``: a job ends CANCELED now — a running script is terminated without the
grace period a cancel gives it; an ended job refuses with a clear code."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.errors import BadRequest, Conflict, NotFound
from sysjobs.host import Host
from sysjobs.jobs import EngineSettings
from sysjobs.runtime.launcher import Launcher

#: A grace longer than any test: a job that ends CANCELED was killed, not cancel-forced.
LONG_GRACE_S = 3600.0


@pytest.fixture
def host(own_db_url: str) -> Iterator[Host]:
    """A host without workers, on a database of its own (no worker of ``running`` claims)."""
    with Host(own_db_url, settings=EngineSettings(stop_grace_s=LONG_GRACE_S)) as opened:
        yield opened


@pytest.fixture(scope="module")
def running(module_db_url: str, launcher: Launcher) -> Iterator[Host]:
    """A host with one worker process, shared by the tests that kill a running script: each
    kills its own job, which frees the slot for the next; a worker process per test was most
    of their CPU."""
    settings = EngineSettings(stop_grace_s=LONG_GRACE_S)
    with Host(module_db_url, settings=settings, launcher=launcher) as opened, opened.workers(1):
        yield opened


def test_kill_ends_a_script_stuck_in_an_endless_loop_at_once(running: Host) -> None:
    host = running
    job = host.start_script_job("while (true) {}", timeout_s=3600)
    host.engine.wait(job.id, "RUNNING", 60)
    assert host.engine.kill(job.id).status == "CANCELING"
    ended = host.engine.wait(job.id, "CANCELED", 60)
    assert ended.status == "CANCELED" and ended.ended_at is not None
    reasons = [e.reason for e in host.engine.events(job.id)]
    assert "kill" in reasons
    messages = [entry.message for entry in host.engine.logs(job.id, {})]
    assert any(m.startswith("Killed:") for m in messages)


def test_kill_ends_a_pending_job_canceled_at_once(host: Host) -> None:
    job = host.start_script_job("1")
    assert host.engine.kill(job.id).status == "CANCELED"


def test_kill_ends_a_job_already_canceling_without_waiting_for_its_grace(running: Host) -> None:
    host = running
    job = host.start_script_job("while (true) {}", timeout_s=3600)
    host.engine.wait(job.id, "RUNNING", 60)
    host.engine.cancel(job.id)  # its grace is an hour
    host.engine.kill(job.id)
    assert host.engine.wait(job.id, "CANCELED", 60).status == "CANCELED"


@pytest.mark.parametrize("end", ["FINISHED", "CANCELED"])
def test_killing_an_ended_job_is_refused_naming_its_status(host: Host, end: str) -> None:
    job = host.start_script_job("1")
    if end == "CANCELED":
        host.engine.cancel(job.id)
    else:  # how it finished does not matter here: in this process (no worker process)
        with host.workers(1, in_process=True):
            host.engine.wait(job.id, "FINISHED", 60)
    with pytest.raises(Conflict) as refused:
        host.engine.kill(job.id)
    assert refused.value.code == "badRequest"
    assert f"Cannot kill job {job.id}: its status is {end}." in refused.value.message


def test_killing_an_unknown_or_malformed_id(host: Host) -> None:
    with pytest.raises(NotFound):
        host.engine.kill("0123456789abcdef01234567")
    with pytest.raises(BadRequest) as bad:
        host.engine.kill("\ud800")
    assert "'jobId'" in bad.value.message
