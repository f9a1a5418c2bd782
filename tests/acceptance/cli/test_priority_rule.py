"""One rule per verb: ``jobs low-priority`` is the engine's ``change_priority`` — the verb
the HTTP API calls — so the CLI refuses what the API refuses, with the same message."""

from __future__ import annotations

import pytest

from sysjobs.errors import Conflict
from sysjobs.host import Host
from tests.acceptance.cli.conftest import Cli


def _finished(host: Host) -> str:
    job = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.0})
    with host.workers(1, in_process=True):
        host.engine.wait(job.id, "FINISHED", 30)
    return job.id


def test_low_priority_on_a_finished_job_is_refused_as_the_api_refuses_it(
    cli: Cli, host: Host
) -> None:
    job_id = _finished(host)
    with pytest.raises(Conflict) as refused:
        host.engine.change_priority(job_id, True)
    done = cli("jobs", "low-priority", job_id, "on")
    assert done.returncode == 2
    assert done.stderr == f"badRequest: {refused.value.message}\n"
    assert refused.value.message == (
        f"Cannot change the priority of job {job_id}: its status is FINISHED. "
        "Allowed only when the status is: PENDING, STOPPED"
    )
    assert host.engine.require(job_id).low_priority is False


def test_low_priority_on_a_pending_job_is_allowed_and_the_dashboard_offers_it(
    cli: Cli, host: Host
) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    done = cli("jobs", "low-priority", job.id, "on")
    assert (done.returncode, done.stdout) == (0, f"{job.id} low priority: on\n")
    canceled = host.engine.cancel(job.id)
    refused = cli("jobs", "low-priority", job.id, "off")
    assert refused.returncode == 2 and "its status is CANCELED" in refused.stderr
    assert canceled.low_priority is True


def test_scripts_set_low_priority_keeps_the_specs_any_status(host: Host) -> None:
    """``sys.jobs.setLowPriority`` is the spec's verb and takes any status: only the user
    verb of the dashboard, the API and the CLI has the PENDING/STOPPED rule."""
    job_id = _finished(host)
    assert host.engine.set_low_priority(job_id, True).low_priority is True
