"""Security of the dashboard/API and of export links, beyond the happy paths of
tests/acceptance/web: every route and verb without a valid token, a read-only token
against a running job, links that expire and cannot be guessed, hostile file names."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.chaos.audit import fault

ADMIN = "chaos-admin-token-0123456789"
READER = "chaos-read-token-0123456789"
UNKNOWN = "0123456789abcdef01234567"


@pytest.fixture
def host(tmp_path: object, sqlite_template: object) -> Iterator[Host]:
    import shutil
    from pathlib import Path

    path = Path(str(tmp_path)) / "web.db"
    shutil.copyfile(str(sqlite_template), path)
    with Host(f"sqlite:///{path}") as opened:
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
    verbs = ("stop", "force-stop", "resume", "cancel")
    return [
        ("GET", "/api/me"), ("GET", "/api/stats"), ("GET", "/api/jobs"),
        ("GET", f"/api/jobs/{job_id}"), ("GET", f"/api/jobs/{job_id}/logs"),
        ("POST", f"/api/jobs/{job_id}/low-priority"), ("POST", "/api/scripts"),
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
            fault("request without a valid token")
    assert host.engine.require(job.id).status == "PENDING"  # nothing changed


def test_a_read_token_cannot_stop_cancel_or_reprioritise_a_running_job(
    client: TestClient, host: Host
) -> None:
    script = "for (var i = 0; i < 200; i++) { sys.jobs.find({_size: 1}).hasNext() } 1"
    with host.workers(1):
        job = host.start_script_job(f"while (true) {{ {script} }}", timeout_s=30)
        host.engine.wait(job.id, ["RUNNING"], 30)
        for verb in ("stop", "force-stop", "cancel", "low-priority"):
            reply = client.post(f"/api/jobs/{job.id}/{verb}", headers=bearer(READER),
                                json={"lowPriority": True})  # fmt: skip
            assert (reply.status_code, reply.json()["code"]) == (403, "forbidden"), verb
            fault("read token tries to change a job")
        running = host.engine.require(job.id)
        assert (running.status, running.low_priority) == ("RUNNING", False)
        assert client.post(f"/api/jobs/{job.id}/force-stop", headers=bearer(ADMIN)).status_code == 200
        assert host.engine.wait(job.id, ["STOPPED"], 30).status == "STOPPED"


def make_file(host: Host, name: str = "export.csv") -> str:
    return host.app.files.put(name, b"name\nAcme\n")


def test_export_links_expire(client: TestClient, host: Host) -> None:
    file_id = make_file(host)
    fresh = host.app.files.link(file_id, ttl=dt.timedelta(hours=1))
    assert client.get(fresh).status_code == 200
    expired = host.app.files.link(file_id, ttl=dt.timedelta(seconds=-1))
    fault("expired export link")
    reply = client.get(expired)
    assert (reply.status_code, reply.json()["code"]) == (403, "forbidden")
    assert client.get(fresh).status_code == 403  # a new link replaces the old one


def test_export_links_cannot_be_guessed(client: TestClient, host: Host) -> None:
    file_id, other = make_file(host), make_file(host, "other.csv")
    link = host.app.files.link(file_id)
    token = link.split("token=", 1)[1]
    other_token = host.app.files.link(other).split("token=", 1)[1]
    tokens = {host.app.files.link(make_file(host)).split("token=", 1)[1] for _ in range(30)}
    assert len(tokens) == 30 and all(len(t) >= 43 for t in tokens)  # 256 random bits each
    path = f"/api/files/{file_id}/download"
    guesses = ["", "0", token[:-1], token[:20], token + "A", token.upper(), other_token,
               "' OR '1'='1", "%00", "*"]  # fmt: skip
    for guess in guesses:
        reply = client.get(path, params={"token": guess})
        assert reply.status_code == 403, guess
        fault("guessed export token")
    assert client.get(path, headers={"X-File-Token": other_token}).status_code == 403
    assert client.get(f"/api/files/{UNKNOWN}/download", params={"token": token}).status_code == 404
    assert client.get(link).status_code == 200


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
    reply = client.get(host.app.files.link(file_id))
    fault("hostile file name")
    assert reply.status_code == 200
    disposition = reply.headers["content-disposition"]
    filename = re.fullmatch(r'attachment; filename="([^"]*)"', disposition)
    assert filename is not None, disposition
    assert "/" not in filename[1] and "\\" not in filename[1] and ".." not in filename[1]
    assert not any(ord(c) < 32 for c in filename[1])
    assert "set-cookie" not in {k.lower() for k in reply.headers}


@pytest.mark.parametrize("file_id", ["../../etc/passwd", "..%2f..%2fetc", "0" * 23 + "/", "%00"])
def test_traversal_in_file_ids_is_refused(client: TestClient, file_id: str) -> None:
    reply = client.get(f"/api/files/{file_id}/download", params={"token": "x"})
    assert reply.status_code in (400, 404), reply.text
    assert "root:" not in reply.text
