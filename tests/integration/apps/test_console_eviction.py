"""The dashboard keeps at most ``max_consoles`` console children alive; a run in one more app
ends the least recently used app's child. That app's script may still be running there (a
console run lasts up to 300 s): the run in the other app must not wait for it — one app's
long script would hold every other app's console — nor cut it short. The busy child ends
right after its run instead. Both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.limits import WebLimits
from sysjobs.web.scripts import Consoles
from tests.integration.apps.conftest import app_folder

OPERATOR = "op-token"
#: Generous bounds on waits for events that, when things work, come in well under a second.
EVENT_S = 60.0


class Dashboard:
    """Apps alpha and beta behind one dashboard that keeps one console child alive."""

    def __init__(self, db_url: str, root: Path, launcher: Launcher) -> None:
        self.hosts = {name: Host(db_url, app_folder(root, name), pool_size=1, launcher=launcher)
                      for name in ("alpha", "beta")}  # fmt: skip
        app = create_app(self.hosts["alpha"], AuthConfig(OPERATOR), db_url=db_url,
                         apps=[self.hosts["beta"]], limits=WebLimits(max_consoles=1))  # fmt: skip
        self.consoles: Consoles = app.state.consoles
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()
        self.pool = ThreadPoolExecutor(max_workers=2)

    def run(self, app: str, source: str) -> Future[Any]:
        headers = {"Authorization": f"Bearer {OPERATOR}", "X-Sysjobs-App": app}

        def post() -> Any:
            reply = self.client.post("/api/scripts", json={"source": source, "timeoutS": 120},
                                     headers=headers)  # fmt: skip
            assert reply.status_code == 200, reply.text
            return reply.json()["result"]

        return self.pool.submit(post)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.__exit__(None, None, None)
        for host in self.hosts.values():
            host.close()


@pytest.fixture(scope="module")
def shared_dashboard(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory, launcher: Launcher
) -> Iterator[Dashboard]:
    opened = Dashboard(module_db_url, tmp_path_factory.mktemp("dashboard"), launcher)
    yield opened
    opened.close()


@pytest.fixture
def dashboard(shared_dashboard: Dashboard) -> Dashboard:
    """The module's dashboard (two Hosts, a web app and its thread pool opened once per
    module, not per test), checked idle before each test: no job of either app is waiting
    or running (every gate an earlier test opened was canceled, so every console run it
    started has ended) and at most one console child is alive. Each test asserts which
    children are alive after its runs, whichever were alive before: a run in an app whose
    child is alive reuses it, as the second run of a dashboard of its own would."""
    for host in shared_dashboard.hosts.values():
        assert [job.id for job in host.engine.find({}) if job.status in ("PENDING", "RUNNING")] == []
    assert sum(shared_dashboard.consoles[n].started for n in shared_dashboard.hosts) <= 1
    return shared_dashboard


def _line_logged(host: Host, job_id: str, text: str) -> None:
    """Wait for ``text`` in the job's log (the console run is then under way)."""
    seen = threading.Event()
    for _ in range(int(EVENT_S / 0.05)):
        if any(line.message == text for line in host.engine.logs(job_id, {})):
            return
        seen.wait(0.05)
    raise AssertionError(f"{text!r} never logged")


def test_a_run_in_another_app_does_not_wait_for_the_evicted_apps_running_script(
    dashboard: Dashboard,
) -> None:
    alpha = dashboard.hosts["alpha"]
    gate = alpha.start_script_job("1", label="gate").id  # no worker: PENDING until canceled
    long_run = dashboard.run("alpha", f"""
        sys.jobs.logInfo('{gate}', 'waiting');
        sys.jobs.waitForJob('{gate}', 'CANCELED', 110000);
        'alpha done'""")  # fmt: skip
    _line_logged(alpha, gate, "waiting")
    beta = dashboard.run("beta", "sys.jobs.find({}).count()").result(timeout=EVENT_S)
    assert (beta["outcome"], beta["value"]) == ("ok", 0)
    assert not long_run.done(), "alpha's script was cut short"
    alpha.engine.cancel(gate)
    assert long_run.result(timeout=EVENT_S)["value"] == "alpha done"
    assert not dashboard.consoles["alpha"].started, "the evicted child ends after its run"
    assert dashboard.consoles["beta"].started


def test_an_evicted_app_used_again_gets_a_fresh_child(dashboard: Dashboard) -> None:
    first = dashboard.run("alpha", "globalThis.mark = 1; typeof mark").result(timeout=EVENT_S)
    assert first["value"] == "number"
    assert dashboard.run("beta", "1").result(timeout=EVENT_S)["value"] == 1
    assert not dashboard.consoles["alpha"].started
    again = dashboard.run("alpha", "typeof mark").result(timeout=EVENT_S)
    assert again["value"] == "undefined"
    assert not dashboard.consoles["beta"].started
