"""``sysjobs jobs wait|stop|resume|cancel|low-priority`` and ``logs --follow``."""

from __future__ import annotations

import json

from sysjobs.host import Host
from tests.acceptance.cli.conftest import Cli


def test_follow_streams_logs_with_a_progress_bar_until_the_job_ends(cli: Cli, host: Host) -> None:
    # In-process: the follower starts at once, so the job need not outlive a process start;
    # its eight steps still span more than one of the follower's re-reads (0.5 s).
    job = host.engine.enqueue("STEPS", {"steps": 8, "step_s": 0.1}, label="Followed")
    with host.workers(1, in_process=True):
        host.engine.wait(job.id, "RUNNING", 30)
        follower = cli("jobs", "logs", job.id, "--follow")
    out, err = follower.stdout, follower.stderr
    assert follower.returncode == 0, err
    lines = [f"step {n} of 8" for n in range(1, 9)]
    assert all(line in out for line in lines)
    assert out.index("step 1 of 8") < out.index("step 8 of 8")
    assert "Followed FINISHED" in out and "100%" in out


def test_wait_returns_when_the_status_is_reached_or_times_out(cli: Cli, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 3, "step_s": 0.1})
    timed_out = cli("jobs", "wait", job.id, "--status", "FINISHED", "--timeout", "0.05")
    assert timed_out.returncode == 2
    assert timed_out.stderr == (
        f"timeout: Job {job.id} did not reach FINISHED within 0.05s; its status is PENDING\n"
    )
    with host.workers(1, in_process=True):
        done = cli("jobs", "wait", job.id, "--status", "FINISHED,CANCELED", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["status"] == "FINISHED"


def test_stop_and_resume_a_running_job(cli: Cli, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 400, "step_s": 0.05})  # outlives slow CLI starts
    with host.workers(1, in_process=True):
        host.engine.wait(job.id, "RUNNING", 30)
        stopped = cli("jobs", "stop", job.id)
        assert stopped.returncode == 0, stopped.stderr
        assert job.id in stopped.stdout
        host.engine.wait(job.id, "STOPPED", 30)
        resumed = cli("jobs", "resume", job.id, "--json")
        assert json.loads(resumed.stdout)["status"] == "PENDING"
        host.engine.wait(job.id, "RUNNING", 30)
        forced = cli("jobs", "force-stop", job.id)
        assert forced.returncode == 0, forced.stderr
        host.engine.wait(job.id, "STOPPED", 30)


def test_cancel_and_low_priority_follow_the_state_machine(cli: Cli, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    illegal = cli("jobs", "resume", job.id)
    assert illegal.returncode == 2
    assert illegal.stderr == (
        f"badRequest: Cannot resume job {job.id}: its status is PENDING. "
        "Allowed only when the status is: STOPPED\n"
    )
    flagged = cli("jobs", "low-priority", job.id, "on", "--json")
    assert json.loads(flagged.stdout)["lowPriority"] is True
    canceled = cli("jobs", "cancel", job.id, "--json")
    assert json.loads(canceled.stdout)["status"] == "CANCELED"
    again = cli("jobs", "cancel", job.id)
    assert again.returncode == 2 and "its status is CANCELED" in again.stderr
