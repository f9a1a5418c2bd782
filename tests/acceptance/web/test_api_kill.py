"""``POST /api/jobs/{id}/kill``: admin only; a job stuck in an endless loop ends CANCELED."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher

from .conftest import READER, auth


@pytest.fixture
def host(db_url: str, launcher: Launcher) -> Iterator[Host]:
    """A plain host: its scripts run in worker processes, the default for untrusted code."""
    with Host(db_url, launcher=launcher) as opened:
        yield opened


def test_kill_ends_a_script_stuck_in_an_endless_loop(client: TestClient, host: Host) -> None:
    with host.workers(1):
        job = host.start_script_job("while (true) {}", timeout_s=3600)
        host.engine.wait(job.id, "RUNNING", 60)
        refused = client.post(f"/api/jobs/{job.id}/kill", headers=auth(READER))
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        reply = client.post(f"/api/jobs/{job.id}/kill", headers=auth())
        assert reply.status_code == 200 and reply.json()["status"] == "CANCELING"
        assert host.engine.wait(job.id, "CANCELED", 60).status == "CANCELED"


def test_killing_an_ended_job_is_a_bad_request_naming_its_status(
    client: TestClient, host: Host
) -> None:
    job = host.start_script_job("1")
    host.engine.cancel(job.id)
    reply = client.post(f"/api/jobs/{job.id}/kill", headers=auth())
    assert reply.status_code == 400
    assert reply.json() == {
        "code": "badRequest",
        "message": f"Cannot kill job {job.id}: its status is CANCELED. "
        "Allowed only when the status is: PENDING, STOPPED, RUNNING, STOPPING, CANCELING",
    }


def test_kill_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/openapi.json", headers=auth()).json()["paths"]
    assert "kill ends the job CANCELED now" in paths["/api/jobs/{jobId}/{verb}"]["post"]["summary"]
