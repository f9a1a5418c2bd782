"""Arbitrary input at every HTTP endpoint of the dashboard API (with a valid admin token):
only 2xx or ``badRequest``/``notFound``/``timeout`` (and 405 for a wrong method) come back —
never a 500, never a traceback; SQL injection in every text parameter is inert."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.properties.test_sys_bad_input import INJECTIONS, json_values, snapshot

ADMIN = {"Authorization": "Bearer props-admin-token"}
EXAMPLES = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
ALLOWED = {"badRequest", "notFound", "timeout", "methodNotAllowed"}

#: Text a URL can carry (lone surrogates cannot be encoded by any client).
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
PARAMS = ["type", "status", "startFrom", "startTo", "endFrom", "endTo", "createFrom", "createTo",
          "hasErrors", "_size", "level", "message", "from", "to", "period", "after", "window",
          "follow", "q", "page"]  # fmt: skip
params = st.dictionaries(st.sampled_from(PARAMS) | texts, texts, max_size=5)
job_ids = st.sampled_from(["0123456789abcdef01234567", "x"]) | st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
verbs = st.sampled_from(["stop", "force-stop", "resume", "cancel", "delete", "low-priority", "x"])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Host, TestClient]]:
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('web-props') / 'web.db'}", None
    else:
        server = request.getfixturevalue("pg_server")
        name = f"webprops_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "sysjobs_template"'))
        url, drop = server.url(name), (admin, name)
    try:
        with Host(url) as host:
            job = host.engine.enqueue("RUN_SCRIPT", {"_source": "1"})
            host.engine.log_info(job.id, "a line")
            app = create_app(host, AuthConfig("props-admin-token"), db_url=url)
            with TestClient(app, raise_server_exceptions=False) as client:
                yield host, client
    finally:
        if drop is not None:
            with drop[0].connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)'))
            drop[0].dispose()


def check(reply: Any) -> None:
    assert reply.status_code < 500, reply.text
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    if reply.status_code >= 400:
        body = reply.json()
        assert body["code"] in ALLOWED, body


def first_job(host: Host) -> str:
    return next(iter(host.engine.find({"_size": 1}))).id


@EXAMPLES
@given(query=params)
def test_list_and_stats_with_any_parameters(web: tuple[Host, TestClient], query: dict[str, str]) -> None:
    _, client = web
    check(client.get("/api/jobs", params=query, headers=ADMIN))
    check(client.get("/api/stats", params=query, headers=ADMIN))


@EXAMPLES
@given(job_id=job_ids, query=params)
def test_show_and_logs_with_any_id_and_parameters(
    web: tuple[Host, TestClient], job_id: str, query: dict[str, str]
) -> None:
    host, client = web
    for target in (job_id, first_job(host)):
        check(client.get(f"/api/jobs/{quote(target, safe='')}", params=query, headers=ADMIN))
        check(client.get(f"/api/jobs/{quote(target, safe='')}/logs", params=query, headers=ADMIN))


@EXAMPLES
@given(job_id=job_ids, verb=verbs, body=json_values)
def test_verbs_and_low_priority_with_any_id_and_body(
    web: tuple[Host, TestClient], job_id: str, verb: str, body: object
) -> None:
    host, client = web
    for target in (job_id, first_job(host)):
        path = f"/api/jobs/{quote(target, safe='')}/{verb}"
        check(client.post(path, content=json.dumps(body), headers=ADMIN))
    path = f"/api/jobs/{quote(job_id, safe='')}/low-priority"
    check(client.post(path, content=json.dumps(body), headers=ADMIN))


scripts = st.dictionaries(
    st.sampled_from(["source", "inJob", "wait", "timeoutS", "label"]) | texts,
    json_values | st.sampled_from(["1 + 1", "throw 1", "sys.jobs.find(", "log('x')"]),
    max_size=4,
) | json_values


@EXAMPLES
@given(body=scripts)
def test_scripts_endpoint_with_any_body(web: tuple[Host, TestClient], body: object) -> None:
    _, client = web
    if isinstance(body, dict) and isinstance(body.get("timeoutS"), int | float):
        body["timeoutS"] = min(max(float(body["timeoutS"]), 0.0), 2.0)  # keep examples quick
    if isinstance(body, dict) and body.get("inJob") is True:
        body["wait"] = False  # no worker runs here: never wait for a job that cannot run
    check(client.post("/api/scripts", content=json.dumps(body), headers=ADMIN))


def test_malformed_bodies_are_bad_requests(web: tuple[Host, TestClient]) -> None:
    host, client = web
    for raw in (b"{nope", b"\xff\xfe", b"", b"[" * 5000 + b"]" * 5000, b'"\\ud800"'):
        check(client.post("/api/scripts", content=raw, headers=ADMIN))
        check(client.post(f"/api/jobs/{first_job(host)}/low-priority", content=raw, headers=ADMIN))


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_in_every_http_text_parameter_is_inert(
    web: tuple[Host, TestClient], text: str
) -> None:
    host, client = web
    before = snapshot(host)
    job_id = first_job(host)
    for name in ("type", "status", "hasErrors", "startFrom", "_size"):
        reply = client.get("/api/jobs", params={name: text}, headers=ADMIN)
        check(reply)
        if reply.status_code == 200:
            assert reply.json()["count"] == 0, (name, text)
    for name in ("message", "level", "period", "after"):
        reply = client.get(f"/api/jobs/{job_id}/logs", params={name: text}, headers=ADMIN)
        check(reply)
    check(client.get(f"/api/jobs/{quote(text, safe='')}", headers=ADMIN))
    assert snapshot(host) == before
