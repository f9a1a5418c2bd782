"""Every query parameter of every route is checked where it enters: 400 ``badRequest``
naming the parameter and the allowed values — never a 500.

The attacks: unicode digits (``'\u0661\u0662\u0663'``, ``'\u00b2'``) and 5,000-digit numbers used to answer
500; NaN, Infinity and numbers past 64 bits must be refused; a long ``period`` must never
reach the parser; a lone surrogate cannot travel in a URL (its UTF-8 bytes arrive as U+FFFD)
and is refused wherever it could stand for a number.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs.values import MAX_MS
from tests.acceptance.web.conftest import auth

#: Values no numeric parameter accepts.
NOT_NUMBERS = ["\u0661\u0662\u0663", "\u00b2", "\U0001d7d9", "9" * 5000, "NaN", "nan", "Infinity", "-Infinity", "inf", "-1",
               "1e3", ".5", " 1", "1 ", "+1", "0x10", "1_000", "", "9223372036854775808",
               "\ufffd", "1\x00"]  # fmt: skip
#: Each route's numeric parameters.
NUMERIC = {
    "/api/jobs": ["startFrom", "startTo", "endFrom", "endTo", "createFrom", "createTo", "_size"],
    "/api/jobs/{id}/logs": ["from", "to", "_size", "after"],
    "/api/stats": ["window"],
}
#: Each route's text parameters and the longest value each accepts.
TEXTS = {
    "/api/jobs": {"type": 1000, "status": 1000, "hasErrors": 5},
    "/api/jobs/{id}/logs": {"level": 16, "message": 1000, "period": 40},
}
ROUTES = ["/api/me", "/api/stats", "/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/logs",
          "/api/files/0123456789abcdef01234567/download"]  # fmt: skip


def url(route: str, job_id: str) -> str:
    return route.replace("{id}", job_id)


def assert_names(reply: object, name: str) -> None:
    status, body = reply.status_code, reply.json()  # type: ignore[attr-defined]
    assert (status, body["code"]) == (400, "badRequest"), body
    assert f"'{name}'" in body["message"] and "Allowed" in body["message"], body


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_every_numeric_parameter_refuses_what_is_not_ascii_digits_in_range(
    shared_client: TestClient, shared_host: Host, value: str
) -> None:
    job_id = shared_host.engine.enqueue("STEPS", {"steps": 1}).id
    for route, names in NUMERIC.items():
        for name in names:
            reply = shared_client.get(url(route, job_id), params={name: value}, headers=auth())
            assert_names(reply, name)


def test_numbers_at_the_edges_of_64_bits(client: TestClient, host: Host) -> None:
    job_id = host.engine.enqueue("STEPS", {"steps": 1}).id
    top = str(2**63 - 1)
    # Time bounds: the engine's one range (what a JavaScript Date can hold), then refused.
    latest, past_latest = str(MAX_MS), str(MAX_MS + 1)
    for name in NUMERIC["/api/jobs"][:-1]:
        assert client.get("/api/jobs", params={name: latest}, headers=auth()).status_code == 200
        assert client.get("/api/jobs", params={name: "0"}, headers=auth()).status_code == 200
        assert_names(client.get("/api/jobs", params={name: past_latest}, headers=auth()), name)
    logs = f"/api/jobs/{job_id}/logs"
    assert client.get(logs, params={"from": "0", "to": latest}, headers=auth()).status_code == 200
    assert client.get(logs, params={"after": f"{top}:{top}"}, headers=auth()).status_code == 200
    assert_names(client.get(logs, params={"after": f"{top}1:1"}, headers=auth()), "after")
    assert_names(client.get("/api/jobs", params={"_size": "501"}, headers=auth()), "_size")
    for name in ("_size", "createFrom"):
        assert_names(client.get("/api/jobs", params={name: "1.5"}, headers=auth()), name)


def test_every_text_parameter_has_a_length_cap(client: TestClient, host: Host) -> None:
    job_id = host.engine.enqueue("STEPS", {"steps": 1}).id
    for route, caps in TEXTS.items():
        for name, cap in caps.items():
            for value in ("a" * (cap + 1), "a" * 60_000):
                reply = client.get(url(route, job_id), params={name: value}, headers=auth())
                assert_names(reply, name)


def test_a_message_filter_with_any_text_is_no_error(client: TestClient, host: Host) -> None:
    job_id = host.engine.enqueue("STEPS", {"steps": 1}).id
    host.engine.log_info(job_id, "\u0661\u0662\u0663 NaN \u00b2")
    for value in ("\u0661\u0662\u0663", "NaN", "\u00b2", "%", "_", "' OR 1=1 --", "\ufffd", "a" * 1000):
        reply = client.get(f"/api/jobs/{job_id}/logs", params={"message": value}, headers=auth())
        assert reply.status_code == 200, value


def test_lone_surrogate_bytes_in_a_url_never_answer_500(client: TestClient, host: Host) -> None:
    job_id = host.engine.enqueue("STEPS", {"steps": 1}).id
    for raw in ("%ED%A0%80", "%ED%BF%BF", "%F0%80", "%C0%AF", "%FF", "%u0031"):
        for route in ROUTES:
            for name in ("from", "period", "message", "type", "window", raw):
                reply = client.get(f"{url(route, job_id)}?{name}={raw}", headers=auth())
                assert reply.status_code in (200, 400), (route, name, raw, reply.text)
                if reply.status_code == 400:
                    assert reply.json()["code"] == "badRequest"
        for route, names in NUMERIC.items():
            for name in names:
                assert_names(client.get(f"{url(route, job_id)}?{name}={raw}", headers=auth()), name)
        path = client.get(f"/api/jobs/{raw}", headers=auth())
        assert_names(path, "jobId")


def test_unknown_and_repeated_parameters_are_refused(client: TestClient, host: Host) -> None:
    job_id = host.engine.enqueue("STEPS", {"steps": 1}).id
    for route in ROUTES:
        reply = client.get(url(route, job_id), params={"colour": "red"}, headers=auth())
        assert (reply.status_code, reply.json()["code"]) == (400, "badRequest"), route
        assert reply.json()["message"].startswith("Unknown parameter 'colour'. Allowed")
    twice = client.get("/api/jobs?_size=1&_size=2", headers=auth())
    assert twice.json()["message"] == "Parameter '_size' is given more than once. Allowed: once"


@pytest.mark.parametrize("job_id", ["\u0661\u0662\u0663", "0" * 5000, "0123456789ABCDEF01234567",
                                    "0123456789abcdef0123456\u0661", "0123456789abcdef01234567\n"])  # fmt: skip
def test_a_bad_job_id_in_the_path_names_jobId(shared_client: TestClient, job_id: str) -> None:
    client = shared_client
    for suffix in ("", "/logs"):
        reply = client.get(f"/api/jobs/{quote(job_id, safe='')}{suffix}", headers=auth())
        assert_names(reply, "jobId")
        assert len(reply.text) < 400  # the value is cut short in the message
    for verb in ("stop", "cancel", "low-priority"):
        reply = client.post(f"/api/jobs/{quote(job_id, safe='')}/{verb}", json={"lowPriority": True},
                            headers=auth())  # fmt: skip
        assert_names(reply, "jobId")
