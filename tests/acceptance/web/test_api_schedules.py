"""``GET /api/schedules``: the request's app's schedules (the ``X-Sysjobs-App`` header's, an
app token's own), the same JSON as ``sysjobs schedules --json``; an app's token never
reaches another app's schedules; no parameters; a token is required."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs.schedules import list_schedules
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.schedule_views import schedules_json
from tests.integration.app.schedule_apps import HOURLY, write_app

OPERATOR, READER, ALPHA, BETA = "op-token", "read-token", "alpha-token", "beta-token"
NIGHTLY = '  nightly: {cron: "30 2 * * *", timezone: Europe/Paris, source: "log(1)"}\n'


class Dashboard:
    """Two apps with schedules on one database, behind one dashboard."""

    def __init__(self, db_url: str, root: Path) -> None:
        self.alpha = Host(db_url, write_app(root / "a", "alpha", HOURLY + NIGHTLY), pool_size=1)
        self.beta = Host(db_url, write_app(root / "b", "beta", HOURLY), pool_size=1)
        auth = AuthConfig(OPERATOR, READER, app_tokens={ALPHA: "alpha", BETA: "beta"})
        self.client = TestClient(create_app(self.alpha, auth, apps=[self.beta]),
                                 raise_server_exceptions=False)  # fmt: skip

    def get(self, token: str | None, app: str | bytes | None = None, query: str = ""
            ) -> tuple[int, dict]:  # fmt: skip
        headers: dict[str, str | bytes] = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if app is not None:
            headers["X-Sysjobs-App"] = app
        reply = self.client.get("/api/schedules" + query, headers=headers)
        return reply.status_code, reply.json()

    def close(self) -> None:
        self.client.close()
        self.beta.close()
        self.alpha.close()


@pytest.fixture
def dash(db_url: str, tmp_path: Path) -> Iterator[Dashboard]:
    opened = Dashboard(db_url, tmp_path)
    yield opened
    opened.close()


def test_the_api_lists_the_apps_schedules_as_the_cli_does(dash: Dashboard) -> None:
    status, body = dash.get(READER)
    assert status == 200, body
    assert body == schedules_json("alpha", list_schedules(dash.alpha.engine.parts))
    assert body["app"] == "alpha" and [s["name"] for s in body["schedules"]] == ["hourly", "nightly"]
    nightly = body["schedules"][1]
    assert (nightly["cron"], nightly["timezone"], nightly["target"], nightly["state"]) == (
        "30 2 * * *", "Europe/Paris", "script:(inline)", "active")
    assert isinstance(nightly["nextRunAt"], int) and nightly["lastJobId"] is None


def test_the_app_header_and_an_apps_token_pick_the_app(dash: Dashboard) -> None:
    assert [s["name"] for s in dash.get(OPERATOR, "beta")[1]["schedules"]] == ["hourly"]
    assert dash.get(BETA)[1]["app"] == "beta"
    assert dash.get(ALPHA)[1]["app"] == "alpha"


def test_an_apps_token_never_reaches_another_apps_schedules(dash: Dashboard) -> None:
    status, body = dash.get(BETA, "alpha")
    assert status == 403 and body["code"] == "forbidden"
    assert "nightly" not in str(body)


def test_the_api_needs_a_token_and_takes_no_parameters(dash: Dashboard) -> None:
    assert dash.get(None)[0] == 401
    status, body = dash.get(READER, query="?app=beta")
    assert status == 400 and body["code"] == "badRequest" and "'app'" in body["message"]
    status, body = dash.get(OPERATOR, "\ud800".encode("utf-8", "surrogatepass"))  # a lone surrogate
    assert status in (400, 404) and "Traceback" not in str(body)


def test_the_api_is_in_the_openapi_document(dash: Dashboard) -> None:
    document = dash.client.get("/api/openapi.json", headers={"Authorization": f"Bearer {READER}"})
    assert "/api/schedules" in document.json()["paths"]
