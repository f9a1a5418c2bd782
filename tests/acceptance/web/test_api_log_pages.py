"""The logs API pages the log and bounds every reply in lines and bytes, whatever is stored.

The attack it answers: a read-token GET of a capped job log (10,000 lines of 64 KiB) used
to return all of it, and three at once took gigabytes. Here a log of a few thousand lines
and a tiny page size show the paging; lines of 64 KiB show the byte bound.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from sysjobs.web.limits import WebLimits
from tests.acceptance.web.conftest import ADMIN, READER, auth, bulk_log

LINES = 2500
#: The log walked 7 lines a page: 43 pages whose edges cut milliseconds shared by three
#: lines (7 is no multiple of 3), the last page short. A page is one request: 2,500 lines
#: took 358 of them to show the same.
WALKED = 300
#: A reply's bytes beyond its lines: the envelope (count, next, more) and brackets.
ENVELOPE = 200


def job_with_log(host: Host, messages: list[str], **kwargs: Any) -> str:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    bulk_log(host, job.id, messages, **kwargs)
    return job.id


def walk(client: TestClient, job_id: str, **params: str) -> Iterator[dict[str, Any]]:
    """Every page, following ``next`` while ``more`` says so."""
    after: str | None = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        reply = client.get(f"/api/jobs/{job_id}/logs", params=query, headers=auth(READER))
        assert reply.status_code == 200, reply.text
        page = reply.json()
        yield page
        if not page["more"]:
            return
        after = page["next"]


def test_a_long_log_is_walked_page_by_page_each_line_once(client: TestClient, host: Host) -> None:
    messages = [f"line {n}" for n in range(WALKED)]
    job_id = job_with_log(host, messages, per_ms=3)  # three lines share each millisecond
    pages = list(walk(client, job_id, _size="7"))
    assert all(len(p["logs"]) <= 7 for p in pages)
    assert len(pages) == -(-WALKED // 7)
    assert [line["message"] for p in pages for line in p["logs"]] == messages
    assert {p["count"] for p in pages} == {WALKED}
    assert pages[-1]["more"] is False and pages[0]["more"] is True


def test_a_page_has_a_default_size_and_a_maximum(client: TestClient, host: Host) -> None:
    job_id = job_with_log(host, [f"line {n}" for n in range(LINES)])
    url = f"/api/jobs/{job_id}/logs"
    default = client.get(url, headers=auth()).json()
    assert (len(default["logs"]), default["more"], default["count"]) == (200, True, LINES)
    assert len(client.get(url, params={"_size": "1000"}, headers=auth()).json()["logs"]) == 1000
    for size in ("1001", "0", "10000000"):
        reply = client.get(url, params={"_size": size}, headers=auth())
        assert reply.status_code == 400
        assert reply.json()["message"] == (
            f"Invalid value '{size}' for parameter '_size'. "
            "Allowed values: an integer from 1 to 1000 (ASCII digits)"
        )


def test_a_reply_is_bounded_in_bytes_whatever_the_stored_lines_weigh(
    client: TestClient, host: Host
) -> None:
    big = ["é" * (64 * 1024 - 10) + f" line {n:03}" for n in range(60)]  # ~7.5 MB stored
    job_id = job_with_log(host, big)
    limit = WebLimits().logs_page_bytes
    pages = []
    for page in walk(client, job_id, _size="1000"):
        assert len(json.dumps(page, ensure_ascii=False).encode()) <= limit + ENVELOPE
        pages.append(page)
    assert len(pages) > 1
    assert [line["message"] for p in pages for line in p["logs"]] == big  # whole, not clipped


def test_a_line_over_the_line_bound_is_shown_clipped(host: Host, db_url: str) -> None:
    limits = WebLimits(logs_page_bytes=8192, log_line_bytes=4096)
    job_id = job_with_log(host, ["\x01" * 50_000], info={"blob": "z" * 50_000})
    bulk_log(host, job_id, ["short"], first_ms=1_800_000_000_000)
    app = create_app(host, AuthConfig(ADMIN, READER), db_url=db_url, limits=limits)
    with TestClient(app) as client:
        pages = list(walk(client, job_id, _size="1000"))
    lines = [line for p in pages for line in p["logs"]]
    first, second = lines
    assert first["clipped"] is True
    assert first["message"].endswith("more characters]")
    assert first["additionalInfo"] == {"clipped": True, "bytes": len('{"blob":"' + "z" * 50_000 + '"}')}
    assert len(json.dumps(first, ensure_ascii=False).encode()) <= 4096
    assert second["message"] == "short" and "clipped" not in second


def test_following_with_next_returns_only_new_lines(client: TestClient, host: Host) -> None:
    job_id = job_with_log(host, ["one", "two"])
    url = f"/api/jobs/{job_id}/logs"
    first = client.get(url, headers=auth()).json()
    assert ([x["message"] for x in first["logs"]], first["more"]) == (["one", "two"], False)
    idle = client.get(url, params={"after": first["next"]}, headers=auth()).json()
    assert (idle["logs"], idle["next"], idle["more"]) == ([], first["next"], False)
    host.engine.log_info(job_id, "three")
    new = client.get(url, params={"after": first["next"]}, headers=auth()).json()
    assert [x["message"] for x in new["logs"]] == ["three"]


def test_pages_keep_the_filters(client: TestClient, host: Host) -> None:
    job_id = job_with_log(host, [f"{'match' if n % 3 == 0 else 'other'} {n}" for n in range(300)])
    pages = list(walk(client, job_id, _size="9", message="MATCH"))
    assert [line["message"] for p in pages for line in p["logs"]] == [
        f"match {n}" for n in range(0, 300, 3)
    ]
    assert {p["count"] for p in pages} == {100}


def test_a_console_job_output_is_a_bounded_first_page(client: TestClient, host: Host) -> None:
    body = {"source": "for (var i = 0; i < 250; i++) log('n' + i)", "inJob": True,
            "wait": True, "timeoutS": 30}  # fmt: skip
    with host.workers(1, in_process=True):  # the STEPS type is trusted test code
        output = client.post("/api/scripts", json=body, headers=auth()).json()
    assert output["job"]["status"] == "FINISHED"
    assert (len(output["logs"]), output["count"], output["more"]) == (200, 250, True)
    rest = client.get(f"/api/jobs/{output['job']['id']}/logs", params={"after": output["next"]},
                      headers=auth()).json()  # fmt: skip
    assert [x["message"] for x in rest["logs"]] == [f"n{i}" for i in range(200, 250)]


@pytest.mark.parametrize("period", ["1" * 5000, "1 " * 3000 + "d", "9" * 39 + "d", "d" * 41,
                                    "1d\n", "\u0661\u0662h", "2h\u00a030m"])  # fmt: skip
def test_a_period_is_capped_before_anything_parses_it(shared_client: TestClient, shared_host: Host,
                                                     period: str) -> None:  # fmt: skip
    client = shared_client
    host = shared_host
    job_id = job_with_log(host, ["x"])
    reply = client.get(f"/api/jobs/{job_id}/logs", params={"period": period}, headers=auth(READER))
    assert reply.status_code == 400
    assert reply.json()["code"] == "badRequest"
    assert "parameter 'period'" in reply.json()["message"]
    ok = client.get(f"/api/jobs/{job_id}/logs", params={"period": "99999d 2h"}, headers=auth())
    assert ok.json()["count"] == 1
