"""Request bodies: capped while they stream in (413), parsed strictly, every field checked.

The attacks: an admin request body used to be read whole (300 MB); NaN, huge numbers and
lone surrogates in a JSON body must be a 400 naming the field, never a 500. The socket
tests talk raw HTTP to a real server to show the 413 comes back while the client is still
sending — the server never waits for, or holds, the whole body.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.limits import WebLimits
from tests.acceptance.web.conftest import ADMIN, READER, auth, serving

CAP = 64 * 1024
#: What a client would send in the attack: 300 MB.
ATTACK = 300 * 1024 * 1024
TOO_LARGE = {"code": "payloadTooLarge",
             "message": f"The request body is too large. Allowed: at most {CAP} bytes"}  # fmt: skip


@pytest.fixture
def capped(host: Host, db_url: str) -> Iterator[tuple[TestClient, str]]:
    """A client of an app with a 64 KiB body cap, and one pending job's id."""
    app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url,
                     limits=WebLimits(max_body_bytes=CAP))  # fmt: skip
    job = host.engine.enqueue("STEPS", {"steps": 1})
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, job.id


def post_routes(job_id: str) -> list[str]:
    verbs = ("stop", "force-stop", "resume", "cancel", "low-priority")
    return ["/api/scripts", *[f"/api/jobs/{job_id}/{verb}" for verb in verbs]]


def test_a_body_over_the_cap_is_413_on_every_route(capped: tuple[TestClient, str]) -> None:
    client, job_id = capped
    for path in post_routes(job_id):
        reply = client.post(path, content=b" " * (CAP + 1), headers=auth())
        assert (reply.status_code, reply.json()) == (413, TOO_LARGE), path
        assert reply.headers["connection"] == "close"
    at_cap = json.dumps({"source": "1", "label": "x" * 100}).ljust(CAP).encode()
    assert client.post("/api/scripts", content=at_cap, headers=auth()).status_code == 200


def _raw_request(base: str, head: str) -> socket.socket:
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port), timeout=20)
    sock.sendall(head.encode())
    return sock


def _reply(sock: socket.socket) -> tuple[int, dict[str, str]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed without answering"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(rest) < int(headers["content-length"]):
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), json.loads(rest)


HEAD = ("POST /api/scripts HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + ADMIN +
        "\r\nContent-Type: application/json\r\n")  # fmt: skip


def test_a_declared_300_mb_body_is_refused_before_it_is_sent(host: Host, db_url: str) -> None:
    app = create_app(host, AuthConfig(ADMIN), db_url=db_url, limits=WebLimits(max_body_bytes=CAP))
    with serving(app) as base:
        sock = _raw_request(base, HEAD + f"Content-Length: {ATTACK}\r\n\r\n")
        with sock:
            sock.sendall(b"x" * 1024)  # 1 KiB of the 300 MB announced, then wait
            status, body = _reply(sock)
    assert (status, body) == (413, TOO_LARGE)


def test_a_chunked_body_is_refused_once_it_passes_the_cap(host: Host, db_url: str) -> None:
    app = create_app(host, AuthConfig(ADMIN), db_url=db_url, limits=WebLimits(max_body_bytes=CAP))
    chunk = b"x" * 16384
    frame = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    sent = 0
    with serving(app) as base:
        sock = _raw_request(base, HEAD + "Transfer-Encoding: chunked\r\n\r\n")
        with sock:
            while sent < ATTACK and not select.select([sock], [], [], 0)[0]:
                try:
                    sock.sendall(frame)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(chunk)
            status, body = _reply(sock)
    assert (status, body) == (413, TOO_LARGE)
    assert CAP < sent < ATTACK // 4  # the answer came while the client was still sending


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"source": "1", "timeoutS": NaN}', None),
        (b'{"source": "1", "timeoutS": Infinity}', None),
        (b'{"source": "1", "timeoutS": -Infinity}', None),
        (b'{"source": "1", "timeoutS": ' + b"9" * 5000 + b"}", None),
        (b'{"source": "1", "timeoutS": 1e400}', None),
        (b'{"source": "1", "timeoutS": 1e308}', "timeoutS"),
        (b'{"source": "1", "timeoutS": true}', "timeoutS"),
        (b'{"source": "1", "timeoutS": "5"}', "timeoutS"),
        (b'{"source": "\\ud800"}', "source"),
        (b'{"source": "1", "label": "a\\udfffb"}', "label"),
        (b'{"source": "1", "label": ["\\ud800"]}', "label"),
        (b'{"source": "1", "label": {"k": {"k": "\\udc00"}}}', "label"),
        (b'{"source": "1", "label": "' + b"x" * 201 + b'"}', "label"),
        (b'{"source": "1", "label": null}', "label"),
        (b'{"source": "1", "inJob": "yes"}', "inJob"),
        (b'{"source": "1", "wait": 1}', "wait"),
        (b'{"source": "   "}', "source"),
        (b'{"source": "1\\u0000"}', "source"),
        (b'{}', "source"),
        (b'{"source": "1", "colour": "red"}', None),
        (b'{"\\ud800": 1}', None),
        (b"[" * 100_000 + b"]" * 100_000, None),
        (b'"just a string"', None),
        (b"\xff\xfe{", None),
    ],
)
def test_hostile_json_bodies_are_400_naming_the_field(shared_client: TestClient, raw: bytes,
                                                      field: str | None) -> None:  # fmt: skip
    reply = shared_client.post("/api/scripts", content=raw, headers=auth())
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["code"] == "badRequest"
    assert "Traceback" not in body["message"] and "Error" not in body["message"]
    if field is not None:
        assert f"parameter '{field}'" in body["message"]


def test_low_priority_body_is_checked(client: TestClient, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    url = f"/api/jobs/{job.id}/low-priority"
    for raw in (b'{"lowPriority": NaN}', b'{"lowPriority": "\\ud800"}', b'{"lowPriority": 1}',
                b"{}", b'{"lowPriority": true, "x": 1}'):  # fmt: skip
        reply = client.post(url, content=raw, headers=auth())
        assert (reply.status_code, reply.json()["code"]) == (400, "badRequest"), raw
    assert host.engine.require(job.id).low_priority is False
    ok = client.post(url, content=b'{"lowPriority": true}', headers=auth())
    assert ok.json()["lowPriority"] is True


def test_unknown_or_bad_body_messages_name_what_is_allowed(client: TestClient) -> None:
    unknown = client.post("/api/scripts", json={"source": "1", "colour": "red"}, headers=auth())
    assert unknown.json()["message"] == (
        "Unknown field 'colour'. Allowed fields: source, timeoutS, inJob, wait, label"
    )
    nan = client.post("/api/scripts", content=b'{"source": "1", "timeoutS": NaN}', headers=auth())
    assert nan.json()["message"] == "The body holds NaN. Allowed: JSON numbers only (no NaN or Infinity)"
    lone = client.post("/api/scripts", content=b'{"source": "\\ud800"}', headers=auth())
    assert lone.json()["message"] == (
        "Invalid value '\\ud800' for parameter 'source'. "
        "Allowed values: text without lone surrogates (unpaired \\ud800-\\udfff)"
    )
