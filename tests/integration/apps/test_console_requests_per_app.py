"""The dashboard runs console scripts on a thread pool every request shares (Starlette's,
40 threads). A script request holds its thread while it runs — up to 300 s — and so does
one waiting for its app's console (one run at a time per app) or for its job's end
(``wait: true``). One app's token sending many of them must not take every thread: the
other apps' requests (any request at all) would wait for them. At most
``WebLimits.max_script_requests`` script requests of one app are held at once; one more is
answered at once with 429 ``limitExceeded``, and another app is served meanwhile. Both
databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.limits import WebLimits
from tests.integration.apps.conftest import app_folder

OPERATOR, ALPHA = "op-token", "alpha-token"
#: More requests than the shared thread pool has threads.
FLOOD = 45
#: Generous bounds on waits for events that, when things work, come in well under a second.
EVENT_S = 60.0


class Dashboard:
    def __init__(self, db_url: str, root: Path, launcher: Launcher) -> None:
        self.hosts = {name: Host(db_url, app_folder(root, name), pool_size=1, launcher=launcher)
                      for name in ("alpha", "beta")}  # fmt: skip
        auth = AuthConfig(OPERATOR, app_tokens={ALPHA: "alpha"})
        app = create_app(self.hosts["alpha"], auth, db_url=db_url, apps=[self.hosts["beta"]],
                         limits=WebLimits(max_script_requests=2))  # fmt: skip
        self.client = TestClient(app, raise_server_exceptions=False)
        self.client.__enter__()
        self.pool = ThreadPoolExecutor(max_workers=FLOOD + 2)
        #: Every request sent, so a test can check that none is still held.
        self.sent: list[Future[Any]] = []

    def post(self, token: str, body: dict[str, Any]) -> Future[tuple[int, Any]]:
        def send() -> tuple[int, Any]:
            reply = self.client.post("/api/scripts", json=body,
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            return reply.status_code, reply.json()

        future = self.pool.submit(send)
        self.sent.append(future)
        return future

    def get(self, path: str, app: str) -> Future[int]:
        headers = {"Authorization": f"Bearer {OPERATOR}", "X-Sysjobs-App": app}
        future = self.pool.submit(lambda: self.client.get(path, headers=headers).status_code)
        self.sent.append(future)
        return future

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
    """The module's dashboard (two Hosts, a web app, alpha's console child and the thread
    pool opened once per module, not per test: a console child's start is ~0.75 s of CPU),
    checked idle before each test: every request an earlier test sent has been answered (so
    none holds a place of alpha's limit) and no job of either app is waiting or running."""
    assert all(future.done() for future in shared_dashboard.sent)
    for host in shared_dashboard.hosts.values():
        assert [job.id for job in host.engine.find({}) if job.status in ("PENDING", "RUNNING")] == []
    return shared_dashboard


def _line_logged(host: Host, job_id: str, text: str) -> None:
    seen = threading.Event()
    for _ in range(int(EVENT_S / 0.05)):
        if any(line.message == text for line in host.engine.logs(job_id, {})):
            return
        seen.wait(0.05)
    raise AssertionError(f"{text!r} never logged")


def _first_answers(futures: list[Future[tuple[int, Any]]], count: int) -> list[tuple[int, Any]]:
    """The first ``count`` replies to come (TimeoutError when fewer come in time)."""
    answers = []
    for future in as_completed(futures, timeout=EVENT_S):
        answers.append(future.result())
        if len(answers) == count:
            break
    return answers


@pytest.mark.parametrize("in_job", [False, True])
def test_one_apps_flood_of_script_requests_leaves_the_dashboard_to_the_others(
    dashboard: Dashboard, in_job: bool
) -> None:
    alpha = dashboard.hosts["alpha"]
    gate = alpha.start_script_job("1", label="gate").id  # no worker: PENDING until canceled
    source = (f"sys.jobs.logInfo('{gate}', 'waiting'); "
              f"sys.jobs.waitForJob('{gate}', 'CANCELED', 110000); 'done'")  # fmt: skip
    first = dashboard.post(ALPHA, {"source": source, "timeoutS": 120})
    try:
        _line_logged(alpha, gate, "waiting")
        body = {"source": source, "timeoutS": 120, "inJob": in_job, "wait": in_job}
        flood = [dashboard.post(ALPHA, body) for _ in range(FLOOD)]
        refused = _first_answers(flood, FLOOD - 1)  # one more is held: 2 at once
        assert dashboard.get("/api/jobs", "beta").result(timeout=EVENT_S) == 200
        assert dashboard.get("/api/jobs", "alpha").result(timeout=EVENT_S) == 200
    finally:  # every held request ends now: the gate and the flood's jobs (no worker) end
        for job in alpha.engine.find({"status": "PENDING"}):
            alpha.engine.cancel(job.id)
    assert [status for status, _ in refused] == [429] * (FLOOD - 1)
    assert {reply["code"] for status, reply in refused if status == 429} == {"limitExceeded"}
    assert first.result(timeout=EVENT_S)[1]["result"]["value"] == "done"
    for future in flood:
        status, reply = future.result(timeout=EVENT_S)
        assert status in (200, 429), reply
