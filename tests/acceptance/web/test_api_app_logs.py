"""``GET /api/app-logs``: the app's own log (``sys.logs``) with the read token, filtered,
paged and bounded like a job's log; every parameter checked where it enters."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.limits import WebLimits
from tests.acceptance.web.conftest import ADMIN, READER, auth


def _write(host: Host, source: str) -> None:
    result = host.run(source)
    assert result.ok, result.error


def _get(client: TestClient, **params: str) -> Any:
    reply = client.get("/api/app-logs", params=params, headers=auth(READER))
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_read_token_reads_the_app_log_oldest_first(client: TestClient, host: Host) -> None:
    _write(host, "sys.logs.info('one'); sys.logs.warn('two', {why: 'x'})")
    page = _get(client)
    assert page["count"] == 2 and page["more"] is False
    assert [(line["level"], line["message"]) for line in page["logs"]] == [
        ("INFO", "one"), ("WARN", "two")]
    assert page["logs"][1]["additionalInfo"] == {"why": "x"}


def test_no_token_is_refused(client: TestClient, host: Host) -> None:
    assert client.get("/api/app-logs").status_code == 401


def test_filters_and_pages(client: TestClient, host: Host) -> None:
    _write(host, "for (var i = 0; i < 7; i++) sys.logs.debug('line ' + i); "
                 "sys.logs.error('Boom')")  # fmt: skip
    assert [line["message"] for line in _get(client, level="ERROR")["logs"]] == ["Boom"]
    assert _get(client, message="boom", period="1h")["count"] == 1
    first = _get(client, _size="3")
    assert [line["message"] for line in first["logs"]] == ["line 0", "line 1", "line 2"]
    second = _get(client, _size="3", after=first["next"])
    assert [line["message"] for line in second["logs"]] == ["line 3", "line 4", "line 5"]
    assert first["more"] and first["count"] == 8


def test_a_long_line_is_clipped_in_the_page(host: Host, db_url: str) -> None:
    _write(host, "sys.logs.info('x'.repeat(60000), {big: 'y'.repeat(60000)})")
    limits = WebLimits(logs_page_bytes=8192, log_line_bytes=4096)
    app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url, limits=limits)
    with TestClient(app, raise_server_exceptions=False) as small:
        (line,) = _get(small)["logs"]
    assert line["clipped"] is True and len(line["message"]) < 4096
    assert line["additionalInfo"]["clipped"] is True


@pytest.mark.parametrize(("params", "fragment"), [
    ({"level": "TRACE"}, "INFO, WARN, ERROR, DEBUG"), ({"_size": "0"}, "_size"),
    ({"_size": "1e3"}, "_size"), ({"from": "NaN"}, "from"), ({"period": "forever"}, "period"),
    ({"after": "x"}, "after"), ({"colour": "red"}, "colour"), ({"message": "a" * 5000}, "message"),
])  # fmt: skip
def test_a_bad_parameter_is_a_400_naming_it(shared_client: TestClient,
                                            params: dict[str, str], fragment: str) -> None:  # fmt: skip
    client = shared_client
    reply = client.get("/api/app-logs", params=params, headers=auth(READER))
    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == "badRequest" and fragment in reply.json()["message"]


def test_the_dashboard_has_an_app_log_page_that_reads_this_api(client: TestClient) -> None:
    page = client.get("/app-logs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/app-logs.js" in page.text and 'href="/app-logs"' in client.get("/").text
    script = client.get("/static/app-logs.js")
    assert script.status_code == 200 and "/api/app-logs?" in script.text
