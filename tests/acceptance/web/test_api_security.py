"""Security of the dashboard/API and of export links, beyond the happy paths of
tests/acceptance/web: every route and verb without a valid token, a read-only token
against a running job, file links that open nothing without the admin token, hostile file
names."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig

ADMIN = "chaos-admin-token-0123456789"
READER = "chaos-read-token-0123456789"
UNKNOWN = "0123456789abcdef01234567"


@pytest.fixture
def host(tmp_path: object, sqlite_template: object, launcher: Launcher) -> Iterator[Host]:
    import shutil
    from pathlib import Path

    path = Path(str(tmp_path)) / "web.db"
    shutil.copyfile(str(sqlite_template), path)
    with Host(f"sqlite:///{path}", launcher=launcher) as opened:
        yield opened


@pytest.fixture
def client(host: Host) -> Iterator[TestClient]:
    app = create_app(host, AuthConfig(ADMIN, READER))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


BAD_CREDENTIALS = [
    {},
    bearer(""),
    bearer("wrong"),
    bearer(ADMIN[:-1]),
    bearer(ADMIN + "x"),
    bearer(ADMIN.upper()),
    {"Authorization": ADMIN},
    {"Authorization": f"Basic {ADMIN}"},
    {"Authorization": f"Bearer  {READER[:-1]}"},
    {"X-Api-Token": ADMIN},
    {"Cookie": f"token={ADMIN}"},
]


def routes(job_id: str) -> list[tuple[str, str]]:
    verbs = ("stop", "force-stop", "resume", "cancel", "kill")
    return [
        ("GET", "/api/me"), ("GET", "/api/stats"), ("GET", "/api/jobs"), ("GET", "/api/workers"),
        ("GET", f"/api/jobs/{job_id}"), ("GET", f"/api/jobs/{job_id}/logs"),
        ("POST", f"/api/jobs/{job_id}/low-priority"), ("POST", "/api/scripts"),
        ("GET", f"/api/files/{UNKNOWN}/download"),
        *[("POST", f"/api/jobs/{job_id}/{verb}") for verb in verbs],
    ]  # fmt: skip


def test_every_api_route_and_verb_refuses_missing_or_wrong_credentials(
    client: TestClient, host: Host
) -> None:
    job = host.engine.enqueue("RUN_SCRIPT", {"_source": "1"})
    for method, path in routes(job.id):
        for headers in BAD_CREDENTIALS:
            reply = client.request(method, path, headers=headers, json={"source": "1"},
                                   params={"token": ADMIN})  # a token in the query is no token
            assert reply.status_code == 401, (method, path, headers)
            assert reply.json()["code"] == "unauthorized"
    assert host.engine.require(job.id).status == "PENDING"  # nothing changed


def test_a_read_token_cannot_stop_cancel_or_reprioritise_a_running_job(
    client: TestClient, host: Host
) -> None:
    script = "for (var i = 0; i < 200; i++) { sys.jobs.find({_size: 1}).hasNext() } 1"
    with host.workers(1):
        job = host.start_script_job(f"while (true) {{ {script} }}", timeout_s=30)
        host.engine.wait(job.id, ["RUNNING"], 30)
        for verb in ("stop", "force-stop", "cancel", "kill", "low-priority"):
            reply = client.post(f"/api/jobs/{job.id}/{verb}", headers=bearer(READER),
                                json={"lowPriority": True})  # fmt: skip
            assert (reply.status_code, reply.json()["code"]) == (403, "forbidden"), verb
        running = host.engine.require(job.id)
        assert (running.status, running.low_priority) == ("RUNNING", False)
        assert client.post(f"/api/jobs/{job.id}/force-stop", headers=bearer(ADMIN)).status_code == 200
        assert host.engine.wait(job.id, ["STOPPED"], 30).status == "STOPPED"


def make_file(host: Host, name: str = "export.csv") -> str:
    return host.app.files.put(name, b"name\nAcme\n")


def test_a_file_link_alone_opens_nothing(client: TestClient, host: Host) -> None:
    file_id = make_file(host)
    link = host.app.files.link(file_id)
    assert link == f"/api/files/{file_id}/download"  # no secret in it: the contract's header rule
    for headers in BAD_CREDENTIALS:
        reply = client.get(link, headers=headers, params={"token": ADMIN})
        assert (reply.status_code, reply.json()["code"]) == (401, "unauthorized"), headers
    reader = client.get(link, headers=bearer(READER))
    assert (reader.status_code, reader.json()["code"]) == (403, "forbidden")
    assert client.get(link, headers=bearer(ADMIN)).status_code == 200


def test_file_ids_cannot_be_guessed_into_other_files(client: TestClient, host: Host) -> None:
    make_file(host)
    for guess in (UNKNOWN, "0" * 24, "f" * 24):
        reply = client.get(f"/api/files/{guess}/download", headers=bearer(ADMIN))
        assert (reply.status_code, reply.json()["code"]) == (404, "notFound"), guess
    for guess in ("*", "' OR '1'='1", "%00", "0" * 23, "0" * 25, "A" * 24):
        reply = client.get(f"/api/files/{guess}/download", headers=bearer(ADMIN))
        assert (reply.status_code, reply.json()["code"]) in ((400, "badRequest"), (404, "notFound"))


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd",
        "..\\..\\windows\\system32\\config",
        "/etc/shadow",
        "evil\r\nSet-Cookie: session=stolen",
        'quote".csv',
        "nul\x00byte.csv",
        "日本語の報告.csv",
    ],
)
def test_hostile_file_names_cannot_traverse_paths_or_inject_headers(
    client: TestClient, host: Host, name: str
) -> None:
    file_id = make_file(host, name)
    reply = client.get(host.app.files.link(file_id), headers=bearer(ADMIN))
    assert reply.status_code == 200
    disposition = reply.headers["content-disposition"]
    filename = re.fullmatch(r'attachment; filename="([^"]*)"', disposition)
    assert filename is not None, disposition
    assert "/" not in filename[1] and "\\" not in filename[1] and ".." not in filename[1]
    assert not any(ord(c) < 32 for c in filename[1])
    assert "set-cookie" not in {k.lower() for k in reply.headers}


@pytest.mark.parametrize("file_id", ["../../etc/passwd", "..%2f..%2fetc", "0" * 23 + "/", "%00"])
def test_traversal_in_file_ids_is_refused(client: TestClient, file_id: str) -> None:
    reply = client.get(f"/api/files/{file_id}/download", headers=bearer(ADMIN))
    assert reply.status_code in (400, 404), reply.text
    assert "root:" not in reply.text
