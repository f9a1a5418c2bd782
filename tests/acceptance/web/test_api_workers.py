"""``GET /api/workers``: the workers registry with the read token — the pools that serve the
dashboard's app, each with host, pid, slots, busy slots and their jobs, queues, apps and its
last heartbeat; other apps' workers for the operator's tokens (admin and read); every bad
parameter a 400 naming it. And ``/health`` counts the workers seen (alive in the registry)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs import new_owner
from sysjobs.jobs.workers import GONE_AFTER_LEASES, Registration
from sysjobs.store.schema import workers as workers_table
from sysjobs.store.workers import WorkerBeat
from sysjobs.worker import WorkerPool
from sysjobs.worker.served import ServedApp
from tests.acceptance.web.conftest import ADMIN, READER, auth
from tests.acceptance.web.test_api_monitoring import samples, value

PATIENCE_S = 20.0


def listed(client: TestClient, query: str = "", token: str = READER) -> dict[str, Any]:
    reply = client.get("/api/workers" + query, headers=auth(token))
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def row_writes(pool: WorkerPool, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set each time ``pool``'s heartbeat has written its registry row: what a reader of the
    registry waits for (a write comes up to a heartbeat tick, 1 s, after a claim)."""
    wrote = threading.Event()
    written = pool.registration.written

    def noted(beat: WorkerBeat) -> None:
        written(beat)
        wrote.set()

    monkeypatch.setattr(pool.registration, "written", noted)
    return wrote


def eventually(read: Callable[[], dict[str, Any]], ok: Callable[[dict[str, Any]], bool],
               wrote: threading.Event) -> dict[str, Any]:  # fmt: skip
    """Read until ``ok`` holds, again after each write of the row (``row_writes``) rather
    than in a busy loop; fail after PATIENCE_S."""
    deadline = time.monotonic() + PATIENCE_S
    while True:
        wrote.clear()  # a write from here on is read by the next loop
        found = read()
        left = deadline - time.monotonic()
        if ok(found) or left <= 0:
            assert ok(found), found
            return found
        wrote.wait(left)


def gone_worker(host: Host, app: str | None = None) -> str:
    """A registry row whose pool died long enough ago to show as gone."""
    registration = Registration(host.engine, new_owner(), slots=2, queues={"mix": 2},
                                apps=[app or host.engine.app], lease_s=1.0)  # fmt: skip
    registration.register()
    with host.engine.database.engine.begin() as conn:
        conn.execute(sa.update(workers_table).values(
            last_seen_ms=workers_table.c.last_seen_ms - (GONE_AFTER_LEASES + 1) * 1000
        ))  # fmt: skip
    return registration.beat.id


def test_the_read_token_lists_a_running_pool_with_its_slots_and_apps(
    client: TestClient, host: Host
) -> None:
    with host.workers(3, in_process=True) as pool:  # trusted test job types
        body = listed(client)
    assert (body["app"], body["count"], body["goneAfterLeases"]) == (
        host.engine.app, 1, GONE_AFTER_LEASES)
    [worker] = body["workers"]
    assert worker["id"] == pool.owner and worker["state"] == "alive"
    assert (worker["host"], worker["pid"]) == (socket.gethostname(), os.getpid())
    assert worker["slots"] == 3 and worker["apps"] == [host.engine.app]
    assert worker["busy"] == 0 and worker["jobIds"] == []
    assert worker["queues"]["mix"] == 3
    assert worker["lastSeenAt"] >= worker["startedAt"] and worker["lastSeenAgoMs"] >= 0
    assert listed(client)["workers"] == []  # a clean stop removed it


def test_a_busy_pool_shows_its_current_jobs(
    client: TestClient, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 200, "step_s": 0.05})
    with host.workers(2, in_process=True) as pool:  # trusted test job types
        wrote = row_writes(pool, monkeypatch)
        host.engine.wait(job.id, "RUNNING", 30)
        body = eventually(lambda: listed(client), lambda b: b["workers"][0]["busy"] == 1, wrote)
        host.engine.cancel(job.id)
    assert body["workers"][0]["jobIds"] == [job.id]


def test_a_dead_worker_shows_gone_and_the_state_filter_picks_it(
    client: TestClient, host: Host
) -> None:
    dead = gone_worker(host)
    with host.workers(1, in_process=True) as pool:  # trusted test job types
        everyone = {w["id"]: w["state"] for w in listed(client)["workers"]}
        alive = [w["id"] for w in listed(client, "?state=alive")["workers"]]
        gone = [w["id"] for w in listed(client, "?state=gone")["workers"]]
    assert everyone == {dead: "gone", pool.owner: "alive"}
    assert (alive, gone) == ([pool.owner], [dead])


def test_the_operators_tokens_see_other_apps_workers(client: TestClient, host: Host) -> None:
    other = WorkerPool(host.engine, concurrency=1,
                       apps={"billing": ServedApp(host.engine.for_app("billing"))})
    with other, host.workers(1, in_process=True) as mine:  # trusted test job types
        own = [w["id"] for w in listed(client)["workers"]]
        seen = {token: ([w["id"] for w in listed(client, "?app=billing", token)["workers"]],
                        {w["id"] for w in listed(client, "?app=*", token)["workers"]})
                for token in (READER, ADMIN)}  # fmt: skip
    assert own == [mine.owner]
    for billing, everyone in seen.values():
        assert billing == [other.owner]
        assert everyone == {mine.owner, other.owner}


def test_workers_need_a_token(client: TestClient) -> None:
    reply = client.get("/api/workers")
    assert reply.status_code == 401 and reply.json()["code"] == "unauthorized"


HOSTILE = [
    ("app", ""), ("app", "../etc"), ("app", "a" * 65), ("app", "x" * 60_000),
    ("app", "-x"), ("app", "**"), ("app", "bill ing"), ("app", "\x00"),
    ("app", "é"), ("app", "\ufeffdefault"),
    ("state", ""), ("state", "ALIVE"), ("state", "dead"), ("state", "Infinity"),
    ("state", "NaN"), ("state", "alive\x00"), ("state", "1e309"), ("state", "z" * 60_000),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value"), HOSTILE, ids=[f"{n}-{i}" for i, (n, _) in
                                                          enumerate(HOSTILE)])  # fmt: skip
def test_a_hostile_parameter_is_a_bad_request_naming_it(
    shared_client: TestClient, name: str, value: str
) -> None:
    client = shared_client
    reply = client.get("/api/workers", params={name: value}, headers=auth(ADMIN))
    assert reply.status_code == 400
    body = reply.json()
    assert body["code"] == "badRequest" and f"parameter '{name}'" in body["message"]
    assert len(body["message"]) < 1000


def test_a_lone_surrogate_app_is_a_bad_request_naming_it(client: TestClient) -> None:
    reply = client.get("/api/workers?app=%ED%A0%80", headers=auth(ADMIN))
    assert reply.status_code == 400 and "parameter 'app'" in reply.json()["message"]


@pytest.mark.parametrize("query", ["?app=a&app=b", "?state=alive&state=gone", "?color=red"])
def test_repeated_or_unknown_parameters_are_bad_requests(shared_client: TestClient, query: str) -> None:
    client = shared_client
    reply = client.get("/api/workers" + query, headers=auth(ADMIN))
    assert reply.status_code == 400 and reply.json()["code"] == "badRequest"


def test_health_counts_the_registry_workers_seen_and_gone(client: TestClient, host: Host) -> None:
    gone_worker(host)
    with host.workers(1, in_process=True):  # trusted test job types: idle, still seen
        during = client.get("/health").json()["workers"]
    after = client.get("/health").json()["workers"]
    assert during == {"seen": 1, "gone": 1}
    assert after == {"seen": 0, "gone": 1}


def test_metrics_count_the_workers_by_state_and_their_slots(
    client: TestClient, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone_worker(host)
    job = host.engine.enqueue("STEPS", {"steps": 200, "step_s": 0.05})
    with host.workers(3, in_process=True) as pool:  # trusted test job types
        wrote = row_writes(pool, monkeypatch)
        host.engine.wait(job.id, "RUNNING", 30)
        eventually(lambda: listed(client), lambda b: b["workers"][-1]["busy"] == 1, wrote)
        found = samples(client)
        host.engine.cancel(job.id)
    assert value(found, "sysjobs_workers", state="alive") == 1
    assert value(found, "sysjobs_workers", state="gone") == 1
    assert value(found, "sysjobs_worker_slots", kind="total") == 3
    assert value(found, "sysjobs_worker_slots", kind="busy") == 1
