"""``/health`` needs no token (load balancers call it): it reports the dashboard's first app.
Another app of the dashboard (``X-Sysjobs-App``) is for a token that reaches it — without
one, any caller would learn which apps the dashboard serves (200 against 404) and their
queues, and an app's token would read another app's figures just by leaving itself out.
Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.integration.apps.conftest import app_folder

OPERATOR, ALPHA = "op-token", "alpha-token"


class Dashboard:
    """Apps alpha (the first: one pending job) and beta (three)."""

    def __init__(self, db_url: str, root: Path) -> None:
        self.hosts = {name: Host(db_url, app_folder(root, name), pool_size=1)
                      for name in ("alpha", "beta")}  # fmt: skip
        for name, count in (("alpha", 1), ("beta", 3)):
            for _ in range(count):
                self.hosts[name].start_script_job("1")
        auth = AuthConfig(OPERATOR, app_tokens={ALPHA: "alpha"})
        app = create_app(self.hosts["alpha"], auth, apps=[self.hosts["beta"]])
        self.client = TestClient(app, raise_server_exceptions=False)

    def health(self, token: str | None, app: str | None) -> tuple[int, Any]:
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if app is not None:
            headers["X-Sysjobs-App"] = app
        reply = self.client.get("/health", headers=headers)
        return reply.status_code, reply.json()

    def close(self) -> None:
        self.client.close()
        for host in self.hosts.values():
            host.close()


@pytest.fixture(scope="module")
def dash(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """One dashboard per module and database: every test here only reads ``/health`` (it
    writes nothing: it reads the queue's figures and the workers' registry), so each sees
    what a dashboard of its own shows, without opening two Hosts and four jobs per test."""
    opened = Dashboard(module_db_url, tmp_path_factory.mktemp("health"))
    yield opened
    opened.close()


def _pending(reply: tuple[int, Any]) -> int:
    status, body = reply
    assert status in (200, 503), body
    pending: int = body["queue"]["pending"]
    return pending


def test_health_without_a_token_reports_the_first_app(dash: Dashboard) -> None:
    assert _pending(dash.health(None, None)) == 1
    assert _pending(dash.health(None, "alpha")) == 1


@pytest.mark.parametrize("token", [None, "not-a-token"])
@pytest.mark.parametrize("app", ["beta", "nope", "x" * 300])
def test_health_of_another_app_needs_a_token_and_says_nothing_of_it(
    dash: Dashboard, token: str | None, app: str
) -> None:
    status, body = dash.health(token, app)
    assert status == 401, body
    assert body["code"] == "unauthorized"
    assert "beta" not in str(body) and "queue" not in body


def test_an_apps_token_reaches_the_health_of_its_own_app_only(dash: Dashboard) -> None:
    assert dash.health(ALPHA, "beta")[0] == 403
    assert _pending(dash.health(ALPHA, None)) == 1


def test_the_operator_reaches_any_apps_health(dash: Dashboard) -> None:
    assert _pending(dash.health(OPERATOR, "beta")) == 3
    assert dash.health(OPERATOR, "nope")[0] == 404
