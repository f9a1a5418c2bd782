"""Who may do what: bearer tokens, the read-only token and mode, scripts, file links, OpenAPI."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.acceptance.web.conftest import ADMIN, READER, auth


def test_every_api_route_needs_a_token(client: TestClient, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    for path in ("/api/jobs", f"/api/jobs/{job.id}", f"/api/jobs/{job.id}/logs", "/api/stats",
                 "/api/stats/series", "/api/me", "/api/openapi.json", "/metrics"):  # fmt: skip
        for headers in ({}, auth("wrong"), {"Authorization": ADMIN}):
            reply = client.get(path, headers=headers)
            assert reply.status_code == 401, path
            assert reply.json()["code"] == "unauthorized"
            assert reply.headers["www-authenticate"] == "Bearer"


def test_scripts_cannot_run_without_the_admin_token(client: TestClient) -> None:
    body = {"source": "log('hi'); 1 + 1"}
    assert client.post("/api/scripts", json=body).status_code == 401
    forbidden = client.post("/api/scripts", json=body, headers=auth(READER))
    assert forbidden.status_code == 403
    assert forbidden.json() == {
        "code": "forbidden",
        "message": "This operation changes data, and the token is read-only",
    }


def test_read_token_reads_but_cannot_change_jobs(client: TestClient, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    assert client.get("/api/me", headers=auth(READER)).json() == {"role": "read"}
    assert client.get("/api/jobs", headers=auth(READER)).json()["count"] == 1
    reply = client.post(f"/api/jobs/{job.id}/cancel", headers=auth(READER))
    assert (reply.status_code, reply.json()["code"]) == (403, "forbidden")
    assert host.engine.require(job.id).status == "PENDING"


def test_read_only_mode_refuses_every_change(host: Host, db_url: str) -> None:
    app = create_app(host, AuthConfig(ADMIN, read_only=True), db_url=db_url)
    job = host.engine.enqueue("STEPS", {"steps": 1})
    with TestClient(app) as client:
        assert client.get("/api/me", headers=auth()).json() == {"role": "read"}
        for path in (f"/api/jobs/{job.id}/cancel", "/api/scripts"):
            reply = client.post(path, json={"source": "1"}, headers=auth())
            assert reply.status_code == 403
            assert reply.json()["message"].endswith("the dashboard runs read-only")


def test_run_a_script_now_returns_its_output(console_client: TestClient) -> None:
    client = console_client
    reply = client.post("/api/scripts", headers=auth(),
                        json={"source": "log('hello'); sys.jobs.find({}).count() + 41"})  # fmt: skip
    assert reply.status_code == 200
    result = reply.json()["result"]
    assert (result["outcome"], result["logs"], result["value"]) == ("ok", ["hello"], 41)


def test_a_failing_script_reports_its_code(console_client: TestClient) -> None:
    client = console_client
    source = "sys.exceptions.throwException('notFound', 'no such thing')"
    result = client.post("/api/scripts", json={"source": source}, headers=auth()).json()["result"]
    assert result["outcome"] == "error"
    assert (result["error"]["code"], result["error"]["message"]) == ("notFound", "no such thing")


def test_run_a_script_in_a_job(client: TestClient, host: Host) -> None:
    reply = client.post("/api/scripts", headers=auth(),
                        json={"source": "log('in a job')", "inJob": True, "label": "console"})  # fmt: skip
    assert reply.status_code == 202
    job = reply.json()["job"]
    assert (job["type"], job["label"], job["data"]) == ("RUN_SCRIPT", "console", {})
    with host.workers(1, in_process=True):
        done = host.engine.wait(job["id"], "FINISHED", 60)
    assert [e.message for e in host.engine.logs(done.id, {})] == ["in a job"]


def test_bad_script_requests_are_400(client: TestClient) -> None:
    for body in ({}, {"source": ""}, {"source": "1", "timeoutS": 0},
                 {"source": "1", "inJob": "yes"}):  # fmt: skip
        reply = client.post("/api/scripts", json=body, headers=auth())
        assert (reply.status_code, reply.json()["code"]) == (400, "badRequest"), body
    not_json = client.post("/api/scripts", content=b"{nope", headers=auth())
    assert not_json.status_code == 400
    assert not_json.json()["message"].startswith("The body is not valid JSON")


def test_export_file_link_downloads_with_the_admin_token_only(client: TestClient,
                                                               host: Host) -> None:  # fmt: skip
    job_id = host.app.export_records("companies")
    with host.workers(1, in_process=True):
        done = host.engine.wait(job_id, "FINISHED", 60)
    link = (done.results or {})["fileLink"]
    assert "?" not in link and "token" not in link  # the link holds no secret
    alone = client.get(link)
    assert (alone.status_code, alone.json()["code"]) == (401, "unauthorized")
    reader = client.get(link, headers=auth(READER))
    assert (reader.status_code, reader.json()["code"]) == (403, "forbidden")
    assert reader.json()["message"] == (
        "Files hold exported records and users: only the admin token may download them"
    )
    reply = client.get(link, headers=auth())
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert reply.headers["cache-control"] == "no-store"
    assert "Acme" in reply.text


def test_users_export_is_refused_to_the_read_token(client: TestClient, host: Host) -> None:
    job_id = host.app.export_users()
    with host.workers(1, in_process=True):
        done = host.engine.wait(job_id, "FINISHED", 60)
    link = (done.results or {})["fileLink"]
    for headers in ({}, auth("forged"), auth(READER), {"X-File-Token": ADMIN}):
        reply = client.get(link, headers=headers, params={"token": ADMIN})
        assert reply.status_code in (401, 403), headers
        assert "@" not in reply.text
    assert "email" in client.get(link, headers=auth()).text


def test_a_script_reading_an_export_gets_a_link_useless_without_a_token(
    console_client: TestClient, shared_host: Host
) -> None:
    client, host = console_client, shared_host
    job_id = host.app.export_users()
    with host.workers(1, in_process=True):
        host.engine.wait(job_id, "FINISHED", 60)
    source = f"sys.jobs.findById('{job_id}').results().fileLink"
    result = client.post("/api/scripts", json={"source": source}, headers=auth()).json()["result"]
    link = result["value"]
    assert link.endswith("/download") and "token" not in link
    for headers in ({}, auth(READER), {"Cookie": f"token={ADMIN}"}):
        assert client.get(link, headers=headers).status_code in (401, 403)


def test_admin_token_downloads_in_read_only_mode(host: Host, db_url: str) -> None:
    file_id = host.app.files.put("x.csv", b"name\nAcme\n")
    app = create_app(host, AuthConfig(ADMIN, READER, read_only=True), db_url=db_url)
    with TestClient(app) as client:
        assert client.get(host.app.files.link(file_id), headers=auth()).text == "name\nAcme\n"
        reader = client.get(host.app.files.link(file_id), headers=auth(READER))
        assert reader.status_code == 403


def test_openapi_document_lists_every_api_route(client: TestClient) -> None:
    document = client.get("/api/openapi.json", headers=auth(READER)).json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    routes = {getattr(r, "path", "") for r in client.app.routes}  # type: ignore[attr-defined]
    api_routes = {r.replace("{job_id}", "{jobId}").replace("{file_id}", "{fileId}")
                  .replace("{verb}", "{verb}") for r in routes if r.startswith("/api")}  # fmt: skip
    assert api_routes == paths


def test_pages_and_static_files_are_served(client: TestClient) -> None:
    for path in ("/", "/jobs/0123456789abcdef01234567", "/console"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "Sysjobs" in client.get("/static/common.js").text


def test_run_a_script_in_a_job_and_wait_for_its_output(client: TestClient, host: Host) -> None:
    body = {"source": "log('one'); log('two')", "inJob": True, "wait": True, "timeoutS": 20}
    with host.workers(1, in_process=True):
        reply = client.post("/api/scripts", json=body, headers=auth())
    assert reply.status_code == 200
    output = reply.json()
    assert output["job"]["status"] == "FINISHED"
    assert [line["message"] for line in output["logs"]] == ["one", "two"]


def test_an_internal_failure_is_a_500_with_a_correlation_id(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    with Host(f"sqlite:///{path}") as host:
        app = create_app(host, AuthConfig(ADMIN))
        host.engine.close()
        path.unlink()  # the database vanishes under the running dashboard
        with TestClient(app, raise_server_exceptions=False) as client:
            reply = client.get("/api/jobs", headers=auth())
    assert reply.status_code == 500
    body = reply.json()
    assert body["code"] == "systemException"
    assert body["message"].startswith("An internal error happened (correlation id ")
    assert "Traceback" not in reply.text and "sqlite" not in reply.text.lower()
