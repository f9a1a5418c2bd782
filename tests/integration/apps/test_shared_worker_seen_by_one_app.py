"""A worker pool may serve several apps. An app's own token lists it (it serves that app),
but sees it as that app's worker only: its key among the apps served, its own jobs among
the pool's current jobs and busy slots — never the other apps' keys or their running jobs'
ids. The operator's tokens see the whole row. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs import new_owner
from sysjobs.jobs.workers import Registration
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.integration.apps.conftest import app_folder

OPERATOR, ALPHA, BETA = "op-token", "alpha-token", "beta-token"


class Shared:
    """Apps alpha and beta behind one dashboard, and one pool serving both, running a job
    of each."""

    def __init__(self, db_url: str, root: Path) -> None:
        self.hosts = {name: Host(db_url, app_folder(root, name), pool_size=1)
                      for name in ("alpha", "beta")}  # fmt: skip
        self.jobs = {name: host.start_script_job("1", label=f"{name} job").id
                     for name, host in self.hosts.items()}  # fmt: skip
        registration = Registration(self.hosts["alpha"].engine, new_owner(), slots=4,
                                    queues={"mix": 4}, apps=["alpha", "beta"], lease_s=30.0)  # fmt: skip
        registration.register()
        beat = registration.due(list(self.jobs.values()))
        assert beat is not None
        registration.refresh(beat)
        self.worker = registration.beat.id
        auth = AuthConfig(OPERATOR, app_tokens={ALPHA: "alpha", BETA: "beta"})
        app = create_app(self.hosts["alpha"], auth, apps=[self.hosts["beta"]])
        self.client = TestClient(app, raise_server_exceptions=False)

    def worker_row(self, token: str, app: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        if app is not None:
            headers["X-Sysjobs-App"] = app
        reply = self.client.get("/api/workers", headers=headers)
        assert reply.status_code == 200, reply.text
        [row] = reply.json()["workers"]
        assert row["id"] == self.worker
        return dict(row)

    def close(self) -> None:
        self.client.close()
        for host in self.hosts.values():
            host.close()


@pytest.fixture
def shared(db_url: str, tmp_path: Path) -> Iterator[Shared]:
    opened = Shared(db_url, tmp_path)
    yield opened
    opened.close()


@pytest.mark.parametrize(("token", "app", "other"), [(ALPHA, "alpha", "beta"),
                                                     (BETA, "beta", "alpha")])  # fmt: skip
def test_an_apps_token_sees_a_shared_pool_as_its_own_apps_only(
    shared: Shared, token: str, app: str, other: str
) -> None:
    row = shared.worker_row(token)
    assert row["apps"] == [app]
    assert row["jobIds"] == [shared.jobs[app]]
    assert row["busy"] == 1
    assert other not in repr(row) and shared.jobs[other] not in repr(row)
    assert row["slots"] == 4


def test_the_operator_sees_the_whole_row_of_a_shared_pool(shared: Shared) -> None:
    for app in ("alpha", "beta"):
        row = shared.worker_row(OPERATOR, app)
        assert row["apps"] == ["alpha", "beta"]
        assert row["jobIds"] == sorted(shared.jobs.values())
        assert row["busy"] == 2


def _busy_metric(shared: Shared, token: str, app: str) -> str:
    headers = {"Authorization": f"Bearer {token}", "X-Sysjobs-App": app}
    reply = shared.client.get("/metrics", headers=headers)
    assert reply.status_code == 200, reply.text
    [line] = [line for line in reply.text.splitlines()
              if line.startswith('sysjobs_worker_slots{kind="busy"}')]  # fmt: skip
    return line.split()[-1]


def test_an_apps_token_metrics_count_its_own_busy_slots_of_a_shared_pool(shared: Shared) -> None:
    assert _busy_metric(shared, ALPHA, "alpha") == "1.0"
    assert _busy_metric(shared, OPERATOR, "alpha") == "2.0"
