"""``sysjobs jobs kill ID``: a job stuck in an endless loop ends CANCELED at once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher
from tests.acceptance.cli.conftest import Cli


@pytest.fixture
def host(db_url: str, launcher: Launcher) -> Iterator[Host]:
    """A plain host: its scripts run in worker processes, the default for untrusted code."""
    with Host(db_url, launcher=launcher) as opened:
        yield opened


def test_kill_ends_a_script_stuck_in_an_endless_loop(cli: Cli, host: Host) -> None:
    with host.workers(1):
        job = host.start_script_job("while (true) {}", timeout_s=3600)
        host.engine.wait(job.id, "RUNNING", 60)
        killed = cli("jobs", "kill", job.id, "--json")
        assert killed.returncode == 0, killed.stderr
        assert json.loads(killed.stdout)["status"] == "CANCELING"
        assert host.engine.wait(job.id, "CANCELED", 60).status == "CANCELED"


def test_killing_an_ended_job_says_why_with_its_code(cli: Cli, host: Host) -> None:
    job = host.start_script_job("1")
    host.engine.cancel(job.id)
    again = cli("jobs", "kill", job.id)
    assert again.returncode == 2
    assert again.stderr.startswith(f"badRequest: Cannot kill job {job.id}: its status is CANCELED.")
    assert "Traceback" not in again.stderr
