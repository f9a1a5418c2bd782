"""The dashboard over two apps of one database: each request is about one app (the
``X-Sysjobs-App`` header, the switcher's), an app's token reaches its own app only (another
app: 403; another app's job id: 404), and the operator's tokens reach every app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs import new_owner
from sysjobs.jobs.workers import Registration
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig

OPERATOR, READER, ALPHA, BETA = "op-token", "read-token", "alpha-token", "beta-token"


class Dashboard:
    """The dashboard over the Hosts of apps alpha (its first) and beta, one job in each."""

    def __init__(self, alpha: Host, beta: Host) -> None:
        self.hosts = {"alpha": alpha, "beta": beta}
        auth = AuthConfig(OPERATOR, READER, app_tokens={ALPHA: "alpha", BETA: "beta"})
        app = create_app(alpha, auth, apps=[beta])
        self.client = TestClient(app, raise_server_exceptions=False)
        self.jobs: dict[str, str] = {}

    def start_jobs(self) -> None:
        """One job in each app (no worker: PENDING)."""
        self.jobs = {name: host.start_script_job("1", label=f"{name} job").id
                     for name, host in self.hosts.items()}  # fmt: skip

    def get(self, path: str, token: str, app: str | None = None) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {token}"}
        if app is not None:
            headers["X-Sysjobs-App"] = app
        reply = self.client.get(path, headers=headers)
        return reply.status_code, reply.json()

    def ids(self, token: str, app: str | None = None) -> list[str]:
        status, body = self.get("/api/jobs", token, app)
        assert status == 200, body
        assert isinstance(body, dict)
        return [job["id"] for job in body["jobs"]]

@pytest.fixture(scope="module")
def shared_dash(shared_two: tuple[Host, Host]) -> Iterator[Dashboard]:
    """One dashboard over the module's two Hosts (``shared_two``): opening two Hosts and
    the web app per test was most of a test's CPU. Nothing the web app keeps between
    requests is read by these tests (no console is run)."""
    opened = Dashboard(*shared_two)
    yield opened
    opened.client.close()


@pytest.fixture
def dash(two_reseeded: tuple[Host, Host], shared_dash: Dashboard) -> Dashboard:
    """The module's dashboard on its database emptied and written again as two Hosts opened
    on a new one write it (``two_reseeded``), then one new job in each app: what a
    dashboard of its own would show."""
    shared_dash.start_jobs()
    return shared_dash


def test_the_switcher_picks_the_app_each_request_is_about(dash: Dashboard) -> None:
    assert dash.ids(OPERATOR) == [dash.jobs["alpha"]]  # the dashboard's first app
    assert dash.ids(OPERATOR, "alpha") == [dash.jobs["alpha"]]
    assert dash.ids(OPERATOR, "beta") == [dash.jobs["beta"]]
    assert dash.ids(READER, "beta") == [dash.jobs["beta"]]
    assert dash.get("/api/apps", OPERATOR) == (200, {"apps": ["alpha", "beta"]})


def test_an_apps_token_sees_its_own_app_only(dash: Dashboard) -> None:
    assert dash.ids(BETA) == [dash.jobs["beta"]]
    assert dash.get("/api/apps", BETA) == (200, {"apps": ["beta"]})
    for path in ("/api/jobs", "/api/stats", f"/api/jobs/{dash.jobs['alpha']}"):
        status, body = dash.get(path, BETA, "alpha")
        assert status == 403, (path, body)
    status, _ = dash.get(f"/api/jobs/{dash.jobs['alpha']}", BETA)
    assert status == 404
    status, _ = dash.get(f"/api/jobs/{dash.jobs['alpha']}/logs", BETA)
    assert status == 404


def test_another_apps_job_is_not_found_through_an_app(dash: Dashboard) -> None:
    status, body = dash.get(f"/api/jobs/{dash.jobs['beta']}", OPERATOR, "alpha")
    assert status == 404, body
    status, body = dash.get(f"/api/jobs/{dash.jobs['beta']}", OPERATOR, "beta")
    assert status == 200 and isinstance(body, dict) and body["id"] == dash.jobs["beta"]


def test_an_apps_token_cannot_change_another_apps_job(dash: Dashboard) -> None:
    headers = {"Authorization": f"Bearer {BETA}"}
    reply = dash.client.post(f"/api/jobs/{dash.jobs['alpha']}/cancel", headers=headers)
    assert reply.status_code == 404
    assert dash.hosts["alpha"].engine.require(dash.jobs["alpha"]).status == "PENDING"
    reply = dash.client.post(f"/api/jobs/{dash.jobs['beta']}/cancel", headers=headers)
    assert reply.status_code == 200
    assert dash.hosts["beta"].engine.require(dash.jobs["beta"]).status == "CANCELED"


@pytest.mark.parametrize("app", ["gamma", "not a key", "x" * 500, "'; DROP TABLE jobs; --"])
def test_an_unknown_app_is_not_found(dash: Dashboard, app: str) -> None:
    status, body = dash.get("/api/jobs", OPERATOR, app)
    assert status == 404, body
    assert isinstance(body, dict) and body["code"] == "notFound"


def test_an_unknown_token_is_still_unauthorized(dash: Dashboard) -> None:
    status, _ = dash.get("/api/jobs", "nobody", "alpha")
    assert status == 401


def registered(dash: Dashboard) -> dict[str, str]:
    """A registered worker of each app (a registry row, as a pool writes it): app -> id."""
    found = {}
    for name, host in dash.hosts.items():
        registration = Registration(host.engine, new_owner(), slots=1, queues={"default": 1},
                                    apps=[name], lease_s=30.0)  # fmt: skip
        registration.register()
        found[name] = registration.beat.id
    return found


def worker_ids(dash: Dashboard, token: str, query: str = "", app: str | None = None) -> set[str]:
    status, body = dash.get("/api/workers" + query, token, app)
    assert status == 200, body
    assert isinstance(body, dict)
    return {worker["id"] for worker in body["workers"]}


def test_an_apps_token_sees_only_the_workers_serving_its_app(dash: Dashboard) -> None:
    ids = registered(dash)
    assert worker_ids(dash, BETA) == {ids["beta"]}
    assert worker_ids(dash, BETA, "?app=beta") == {ids["beta"]}
    assert worker_ids(dash, ALPHA) == {ids["alpha"]}
    for query, app in (("?app=alpha", None), ("?app=*", None), ("", "alpha"),
                       ("?app=beta", "alpha"), ("?app=gamma", None)):  # fmt: skip
        status, body = dash.get("/api/workers" + query, BETA, app)
        assert status == 403, (query, app, body)
        assert isinstance(body, dict) and body["code"] == "forbidden"


def test_the_operators_tokens_see_any_apps_workers(dash: Dashboard) -> None:
    ids = registered(dash)
    for token in (OPERATOR, READER):
        assert worker_ids(dash, token) == {ids["alpha"]}  # the dashboard's first app
        assert worker_ids(dash, token, app="beta") == {ids["beta"]}
        assert worker_ids(dash, token, "?app=beta") == {ids["beta"]}
        assert worker_ids(dash, token, "?app=*") == set(ids.values())


def test_me_names_an_apps_token_app_and_nothing_for_the_operator(dash: Dashboard) -> None:
    assert dash.get("/api/me", BETA) == (200, {"role": "admin", "app": "beta"})
    assert dash.get("/api/me", OPERATOR) == (200, {"role": "admin"})
    assert dash.get("/api/me", READER) == (200, {"role": "read"})
