"""The jobs list is bounded too: at most 500 jobs a page, read a few rows at a time, and a
listed job's ``data``/``results`` past 8 KiB clipped (the job's own page has them whole)."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from sysjobs.host import Host
from tests.acceptance.web.conftest import READER, auth


def test_heavy_data_is_clipped_in_the_list_and_whole_in_the_job(client: TestClient,
                                                                host: Host) -> None:  # fmt: skip
    blob = "x" * 200_000
    heavy = [host.engine.enqueue("STEPS", {"steps": 1, "note": blob}).id for _ in range(30)]
    light = host.engine.enqueue("STEPS", {"steps": 2}).id
    reply = client.get("/api/jobs", params={"_size": "500"}, headers=auth(READER))
    page = reply.json()
    assert page["count"] == 31
    assert [j["id"] for j in page["jobs"]] == [light, *reversed(heavy)]  # newest first, once each
    assert page["jobs"][0]["data"] == {"steps": 2}
    size = len(json.dumps({"steps": 1, "note": blob}, separators=(",", ":")))
    assert all(j["data"] == {"clipped": True, "bytes": size} for j in page["jobs"][1:])
    assert len(reply.content) < 31 * 2048
    whole = client.get(f"/api/jobs/{heavy[0]}", headers=auth(READER)).json()
    assert whole["data"]["note"] == blob


def test_list_pages_read_in_small_batches_keep_order_and_size(client: TestClient,
                                                              host: Host) -> None:  # fmt: skip
    ids = [host.engine.enqueue("STEPS", {"steps": 1}).id for _ in range(37)]
    for size in ("1", "9", "10", "11", "37", "500"):
        page = client.get("/api/jobs", params={"_size": size}, headers=auth()).json()
        assert [j["id"] for j in page["jobs"]] == list(reversed(ids))[: int(size)], size
    default = client.get("/api/jobs", headers=auth()).json()
    assert len(default["jobs"]) == 37
    too_many = client.get("/api/jobs", params={"_size": "501"}, headers=auth())
    assert too_many.json() == {
        "code": "badRequest",
        "message": "Invalid value '501' for parameter '_size'. "
        "Allowed values: an integer from 1 to 500 (ASCII digits)",
    }
