"""Arbitrary input at every HTTP route of the dashboard API (with a valid admin token):
arbitrary query strings (any bytes, unicode digits, 5,000-digit numbers, NaN, the UTF-8
bytes of lone surrogates) and arbitrary JSON-like bodies (NaN, ±Infinity, huge numbers,
lone surrogates in values and keys, deep nesting). Only the documented statuses come back
— 2xx, 400 ``badRequest``, 404 ``notFound``, 405, 408 ``timeout``, 413 ``payloadTooLarge``
— never a 500, never a traceback, and the server answers normally after each example.
SQL injection in every text parameter is inert.

Modest example counts by default; ``SYSJOBS_CHAOS_HEAVY=1`` runs ten (every route: twenty)
times as many.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.limits import WebLimits
from sysjobs.web.openapi import document
from tests.properties.inloop import InLoopClient
from tests.properties.test_sys_bad_input import INJECTIONS, snapshot

ADMIN = {"Authorization": "Bearer props-admin-token"}
HEAVY = os.environ.get("SYSJOBS_CHAOS_HEAVY") == "1"
EXAMPLES = settings(max_examples=300 if HEAVY else 30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
#: Each example of the every-route property sends ~50 requests (every route, two ids, two
#: query strings, GET and POST): half as many examples in ``make test``, as many in heavy.
ROUTE_EXAMPLES = settings(EXAMPLES, max_examples=300 if HEAVY else 15)
ALLOWED = {"badRequest", "notFound", "timeout", "methodNotAllowed", "payloadTooLarge"}
DOCUMENTED = {200, 202, 400, 404, 405, 408, 413}
#: A small body cap, so that examples reach it.
CAP = 4096

#: Every parameter name any route takes, plus near misses.
PARAMS = ["type", "status", "startFrom", "startTo", "endFrom", "endTo", "createFrom", "createTo",
          "hasErrors", "_size", "level", "message", "from", "to", "period", "after", "window",
          "token", "follow", "q", "page"]  # fmt: skip
#: Values that looked like numbers to Python but are not ASCII digits, and other edges.
EDGES = ["\u0661\u0662\u0663", "\u00b2", "\U0001d7d9", "9" * 5000, "NaN", "Infinity", "-Infinity", "1e400", "-1", "0",
         "9223372036854775807", "9223372036854775808", "1:1", "1" * 40 + ":1", "today",
         "2h 30m", "1" * 5000 + "d", "PENDING,FINISHED", "INFO", "true", "\ud800", "\udfff",
         "a\ud83db", "\x00", "%", "'"]  # fmt: skip
#: Any character, lone surrogates included (sent as their UTF-8 bytes).
anything = st.characters(codec=None, categories=None)
texts = st.sampled_from(EDGES) | st.text(anything, max_size=40)
raw_queries = st.text(st.sampled_from("%&=;+?#/:abc0123456789EDAF \u0661"), max_size=40)

#: JSON-like values Python's json can write, NaN, ±Infinity and lone surrogates included.
scalars = (st.none() | st.booleans() | st.integers() | st.integers(10**18, 10**60)
           | st.floats(allow_nan=True, allow_infinity=True) | texts)  # fmt: skip
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["source", "inJob", "wait", "timeoutS", "label", "lowPriority"]
bodies = st.dictionaries(st.sampled_from(FIELDS) | texts, json_like, max_size=4) | json_like
#: Bodies no encoder writes: bad UTF-8, numbers past any limit, deep nesting, over the cap.
RAW_BODIES = [b"{nope", b"\xff\xfe", b"", b"[" * 5000 + b"]" * 5000, b'"\\ud800"',
              b'{"source": 1' + b"0" * 5000 + b"}", b'{"lowPriority": NaN}',
              b'{"\\udc00": true}', b"{" * 3000, b" " * (CAP + 1)]  # fmt: skip

job_ids = st.sampled_from(["0123456789abcdef01234567", "x", "\u0661\u0662\u0663"]) | st.text(anything, min_size=1,
                                                                             max_size=40)  # fmt: skip
VERBS = ["stop", "force-stop", "resume", "cancel", "kill", "low-priority", "delete", "x"]
ROUTES = ["/api/me", "/api/stats", "/api/stats/series", "/api/jobs", "/api/jobs/{id}",
          "/api/jobs/{id}/logs", "/api/jobs/{id}/children", "/api/jobs/{id}/{verb}", "/api/scripts",
          "/api/files/{id}/download",
          "/api/openapi.json", "/api/workers"]  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Host, InLoopClient]]:
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
            host.app.files.put("x.csv", b"a\n")
            app = create_app(host, AuthConfig("props-admin-token"), db_url=url,
                             limits=WebLimits(max_body_bytes=CAP))  # fmt: skip
            client = InLoopClient(app)  # not TestClient: no thread hop per request
            try:
                yield host, client
            finally:
                client.close()
    finally:
        if drop is not None:
            with drop[0].connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)'))
            drop[0].dispose()


def check(reply: Any) -> None:
    assert reply.status_code in DOCUMENTED, (reply.status_code, reply.text)
    assert "Traceback" not in reply.text and 'File "' not in reply.text
    if reply.status_code >= 400:
        body = reply.json()
        assert set(body) == {"code", "message"} and body["code"] in ALLOWED, body


def healthy(client: InLoopClient) -> None:
    """The server still answers a plain request normally."""
    assert client.get("/api/me", headers=ADMIN).json() == {"role": "admin"}
    assert client.get("/api/jobs", params={"_size": "1"}, headers=ADMIN).status_code == 200


def first_job(host: Host) -> str:
    return next(iter(host.engine.find({"_size": 1}))).id


def encode(pairs: list[tuple[str, str]]) -> str:
    """A query string carrying any text; a lone surrogate goes as its (invalid) UTF-8 bytes."""
    def q(text: str) -> str:
        return quote(text, safe="", errors="surrogatepass")

    return "&".join(f"{q(k)}={q(v)}" for k, v in pairs)


def json_bytes(body: object) -> bytes:
    """``body`` as JSON, NaN/Infinity and lone surrogates (as ``\\ud800`` escapes) included."""
    try:
        return json.dumps(body).encode()
    except ValueError:  # an integer past Python's digit limit
        return b'{"source": ' + b"9" * 5000 + b"}"


def paths(route: str, job_id: str, verb: str) -> str:
    return route.replace("{id}", quote(job_id, safe="", errors="surrogatepass")).replace("{verb}", verb)


def documented_params(route: str) -> list[str]:
    """The query parameters the OpenAPI document lists for ``route`` (any method)."""
    spec_path = route.replace("{id}", "{jobId}" if "jobs" in route else "{fileId}")
    operations = document()["paths"].get(spec_path, {}).values()
    return [p["name"] for op in operations for p in op["parameters"] if p["in"] == "query"]


@ROUTE_EXAMPLES
@given(job_id=job_ids, verb=st.sampled_from(VERBS), raw=raw_queries, data=st.data())
def test_every_route_with_any_query_string(web: tuple[Host, InLoopClient], job_id: str, verb: str,
                                           raw: str, data: st.DataObject) -> None:  # fmt: skip
    host, client = web
    for route in ROUTES:
        own = documented_params(route) or PARAMS
        names = st.sampled_from(own) | st.sampled_from(PARAMS) | texts
        pairs = data.draw(st.lists(st.tuples(names, texts), min_size=1, max_size=4), label=route)
        for target in (job_id, first_job(host)):
            path = paths(route, target, verb)
            for query in (encode(pairs), raw):
                check(client.get(f"{path}?{query}", headers=ADMIN))
                if "{verb}" in route or route == "/api/scripts":
                    check(client.post(f"{path}?{query}", content=b"{}", headers=ADMIN))
    healthy(client)


@EXAMPLES
@given(job_id=job_ids, verb=st.sampled_from(VERBS), body=bodies)
@example(job_id="/", verb="stop", body={})  # a path the router answers with a redirect
def test_every_post_route_with_any_json_like_body(web: tuple[Host, InLoopClient], job_id: str,
                                                  verb: str, body: object) -> None:  # fmt: skip
    host, client = web
    raw = json_bytes(body)
    for target in (job_id, first_job(host)):
        check(client.post(paths("/api/jobs/{id}/{verb}", target, verb), content=raw, headers=ADMIN))
    check(client.post(paths("/api/jobs/{id}/low-priority", job_id, ""), content=raw, headers=ADMIN))
    if not (isinstance(body, dict) and "source" in body):
        check(client.post("/api/scripts", content=raw, headers=ADMIN))  # refused before running
    for route in ROUTES:  # GET routes ignore or refuse a body; never a 500
        check(client.request("GET", paths(route, job_id, verb), content=raw, headers=ADMIN))
    healthy(client)


scripts = st.dictionaries(
    st.sampled_from(["source", "inJob", "wait", "timeoutS", "label"]) | texts,
    json_like | st.sampled_from(["1 + 1", "throw 1", "sys.jobs.find(", "log('x')"]),
    max_size=4,
) | json_like


@EXAMPLES
@given(body=scripts)
def test_scripts_endpoint_with_any_body(web: tuple[Host, InLoopClient], body: object) -> None:
    _, client = web
    if isinstance(body, dict) and isinstance(body.get("timeoutS"), int | float):
        body["timeoutS"] = min(max(float(body["timeoutS"]), 0.0), 2.0)  # keep examples quick
    if isinstance(body, dict) and body.get("inJob") is True:
        body["wait"] = False  # no worker runs here: never wait for a job that cannot run
    check(client.post("/api/scripts", content=json_bytes(body), headers=ADMIN))
    healthy(client)


def test_malformed_bodies_are_bad_requests(web: tuple[Host, InLoopClient]) -> None:
    host, client = web
    for raw in RAW_BODIES:
        for path in ("/api/scripts", f"/api/jobs/{first_job(host)}/low-priority"):
            reply = client.post(path, content=raw, headers=ADMIN)
            check(reply)
            assert reply.status_code in (400, 413), (path, raw[:40])
    healthy(client)


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_in_every_http_text_parameter_is_inert(
    web: tuple[Host, InLoopClient], text: str
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
    check(client.get(f"/api/files/{quote(text, safe='')}/download", headers=ADMIN))
    assert snapshot(host) == before
