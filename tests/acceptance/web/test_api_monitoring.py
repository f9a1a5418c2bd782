"""Monitoring around the dashboard: ``/health`` for uptime checks, ``/metrics`` for
Prometheus, the series behind the charts, search by label and keyset paging of the list."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.jobs import new_owner
from sysjobs.store.schema import jobs as jobs_table
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.acceptance.web.conftest import ADMIN, READER, STEPS, auth

MINUTE_MS = 60_000


def samples(client: TestClient, token: str = READER) -> dict[str, list[Sample]]:
    """The scrape parsed by Prometheus' own parser: family name -> samples."""
    reply = client.get("/metrics", headers=auth(token))
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=")
    return {f.name: list(f.samples) for f in text_string_to_metric_families(reply.text)}


def value(found: dict[str, list[Sample]], family: str, name: str | None = None,
          **labels: str) -> float:  # fmt: skip
    """The one sample of ``family`` named ``name`` (the family's name by default) whose labels
    include ``labels``."""
    matching = [s.value for s in found[family] if s.name == (name or family)
                and labels.items() <= s.labels.items()]  # fmt: skip
    assert len(matching) == 1, (family, labels, found[family])
    return matching[0]


def backdate(host: Host, job_id: str, by_ms: int) -> None:
    """Make a job look created ``by_ms`` earlier (a queue that has waited that long)."""
    with host.engine.database.engine.begin() as conn:
        conn.execute(sa.update(jobs_table).where(jobs_table.c.id == job_id)
                     .values(created_ms=jobs_table.c.created_ms - by_ms))  # fmt: skip


# --- /health ------------------------------------------------------------------------------


def test_health_answers_ok_without_a_token(client: TestClient, host: Host, db_url: str) -> None:
    host.engine.enqueue("STEPS", {"steps": 1})
    reply = client.get("/health")
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["queue"]["pending"] == 1
    assert body["workers"] == {"seen": 0, "gone": 0}
    assert db_url.split("@")[-1] not in reply.text and ADMIN not in reply.text


def test_health_counts_workers_seen_in_the_registry_even_idle(client: TestClient,
                                                              host: Host) -> None:  # fmt: skip
    with host.workers(1, in_process=True):  # trusted test job types
        body = client.get("/health").json()
    assert (body["status"], body["workers"]["seen"]) == ("ok", 1)


def test_health_is_503_when_jobs_wait_and_no_worker_was_seen(client: TestClient,
                                                             host: Host) -> None:  # fmt: skip
    job = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.01})
    backdate(host, job.id, 10 * MINUTE_MS)
    reply = client.get("/health")
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "error"
    assert body["problems"] == [
        "1 jobs are waiting (the oldest for 600 s) and no worker serving this app sends "
        "heartbeats"
    ]
    with host.workers(1, in_process=True):  # trusted test job types
        host.engine.wait(job.id, "FINISHED", 30)
    assert client.get("/health").status_code == 200


def test_health_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    with Host(f"sqlite:///{path}") as host:
        app = create_app(host, AuthConfig(ADMIN))
        host.engine.close()
        path.unlink()  # the database vanishes under the running dashboard
        with TestClient(app, raise_server_exceptions=False) as client:
            reply = client.get("/health")
    assert reply.status_code == 503
    assert reply.json() == {"status": "error", "problems": ["the database does not answer"],
                            "database": "unreachable"}  # fmt: skip
    assert str(tmp_path) not in reply.text and "sqlite" not in reply.text.lower()


def test_health_takes_no_parameters(client: TestClient) -> None:
    reply = client.get("/health?verbose=1")
    assert (reply.status_code, reply.json()["code"]) == (400, "badRequest")


# --- /metrics -----------------------------------------------------------------------------


def test_metrics_need_the_read_or_admin_token(client: TestClient) -> None:
    for headers in ({}, auth("wrong"), {"Authorization": READER}):
        reply = client.get("/metrics", headers=headers)
        assert (reply.status_code, reply.json()["code"]) == (401, "unauthorized")
    assert client.get("/metrics", headers=auth(ADMIN)).status_code == 200


def test_metrics_count_jobs_by_status_queue_and_type(client: TestClient, host: Host) -> None:
    first = host.engine.enqueue("STEPS", {"steps": 1})
    host.engine.enqueue("STEPS", {"steps": 1})
    host.engine.enqueue("STEPS", {"steps": 1})
    host.engine.cancel(first.id)
    found = samples(client)
    queue = first.queue
    assert value(found, "sysjobs_jobs", status="PENDING", queue=queue, type="STEPS") == 2
    assert value(found, "sysjobs_jobs", status="CANCELED", queue=queue, type="STEPS") == 1
    assert value(found, "sysjobs_jobs_by_status", status="RUNNING") == 0
    assert value(found, "sysjobs_jobs_by_status", status="PENDING") == 2
    assert value(found, "sysjobs_jobs_enqueued", queue=queue) == 3
    assert found["sysjobs_jobs_claimed"] == []
    assert [s for s in found["sysjobs_jobs_finished"] if s.value] == []
    assert value(found, "sysjobs_lost_leases") == 0


def test_metrics_show_finished_jobs_and_their_times(client: TestClient, host: Host) -> None:
    with host.workers(1, in_process=True):  # trusted test job types
        done = [host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.01}) for _ in range(3)]
        for job in done:
            host.engine.wait(job.id, "FINISHED", 30)
    found = samples(client)
    queue = done[0].queue
    assert value(found, "sysjobs_jobs_finished", queue=queue) == 3
    assert value(found, "sysjobs_jobs_claimed", queue=queue) == 3
    assert value(found, "sysjobs_jobs_enqueued", queue=queue) == 3
    for family in ("sysjobs_job_run_seconds", "sysjobs_job_queue_wait_seconds"):
        assert value(found, family, f"{family}_count") == 3
        assert value(found, family, f"{family}_bucket", le="+Inf") == 3
        assert value(found, family, f"{family}_bucket", le="3600.0") == 3
        assert value(found, family, f"{family}_sum") > 0
    assert value(found, "sysjobs_metrics_window_seconds") == 3600


def test_metrics_are_read_from_the_database_so_every_process_agrees(
    client: TestClient, host: Host, db_url: str
) -> None:
    host.engine.enqueue("STEPS", {"steps": 1})
    with Host(db_url, job_types=[STEPS]) as other:
        other.engine.enqueue("STEPS", {"steps": 1})
        app = create_app(other, AuthConfig(ADMIN, READER), db_url=db_url)
        with TestClient(app) as other_client:
            theirs = samples(other_client)
    ours = samples(client)
    assert value(ours, "sysjobs_jobs_by_status", status="PENDING") == 2
    assert value(theirs, "sysjobs_jobs_by_status", status="PENDING") == 2


def test_metrics_take_no_parameters(client: TestClient) -> None:
    reply = client.get("/metrics?window=NaN", headers=auth(READER))
    assert (reply.status_code, reply.json()["code"]) == (400, "badRequest")


# --- the series behind the charts ---------------------------------------------------------


def test_series_counts_enqueued_finished_and_queue_depth(client: TestClient,
                                                         host: Host) -> None:  # fmt: skip
    with host.workers(1, in_process=True):  # trusted test job types
        done = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.01})
        host.engine.wait(done.id, "FINISHED", 30)
    waiting = [host.engine.enqueue("STEPS", {"steps": 1}) for _ in range(3)]
    host.engine.cancel(waiting[0].id)
    reply = client.get("/api/stats/series?window=600&step=60", headers=auth(READER))
    assert reply.status_code == 200
    series = reply.json()
    assert series["stepS"] == 60
    assert len(series["atMs"]) == len(series["depth"]) == 10
    assert sum(series["enqueued"]) == 4
    assert sum(series["finished"]) == 1
    assert series["depth"][-1] == 2
    assert series["atMs"] == sorted(series["atMs"])


def test_series_rebuilds_the_depth_of_earlier_minutes(client: TestClient, host: Host) -> None:
    old = host.engine.enqueue("STEPS", {"steps": 1})
    backdate(host, old.id, 5 * MINUTE_MS)
    series = client.get("/api/stats/series?window=600&step=60", headers=auth()).json()
    assert series["depth"][:4] == [0, 0, 0, 0]
    assert series["depth"][5:] == [1, 1, 1, 1, 1]


def test_series_places_a_job_by_its_creation_start_and_end(client: TestClient,
                                                            host: Host) -> None:  # fmt: skip
    with host.workers(1, in_process=True):  # trusted test job types
        job = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.01})
        host.engine.wait(job.id, "FINISHED", 30)
    with host.engine.database.engine.begin() as conn:  # created 5, started 3, ended 2 min ago
        conn.execute(sa.update(jobs_table).where(jobs_table.c.id == job.id).values(
            created_ms=jobs_table.c.created_ms - 5 * MINUTE_MS,
            started_ms=jobs_table.c.started_ms - 3 * MINUTE_MS,
            ended_ms=jobs_table.c.ended_ms - 2 * MINUTE_MS))  # fmt: skip
    series = client.get("/api/stats/series?window=600&step=60", headers=auth()).json()
    assert series["enqueued"] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert series["depth"] == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    assert series["finished"] == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]


@pytest.mark.parametrize("query", ["step=0.5", "window=86400&step=1", "step=NaN", "step=-1",
                                   "step=1e3", "window=%ED%A0%80", "step=" + "9" * 400])
def test_series_refuses_bad_windows_and_steps(shared_client: TestClient, query: str) -> None:
    client = shared_client
    reply = client.get(f"/api/stats/series?{query}", headers=auth())
    assert (reply.status_code, reply.json()["code"]) == (400, "badRequest")
    assert "Traceback" not in reply.text


# --- search by label and keyset paging ----------------------------------------------------


def test_jobs_are_found_by_a_part_of_their_label_in_any_case(client: TestClient,
                                                             host: Host) -> None:  # fmt: skip
    report = host.engine.enqueue("STEPS", {"steps": 1}, label="Nightly Report 100%")
    host.engine.enqueue("STEPS", {"steps": 1}, label="Import of 1000 contacts")
    host.engine.enqueue("STEPS", {"steps": 1})
    reply = client.get("/api/jobs", params={"label": "report"}, headers=auth(READER)).json()
    assert (reply["count"], [j["id"] for j in reply["jobs"]]) == (1, [report.id])
    literal = client.get("/api/jobs", params={"label": "100%"}, headers=auth()).json()
    assert [j["id"] for j in literal["jobs"]] == [report.id]
    assert client.get("/api/jobs", params={"label": "_"}, headers=auth()).json()["count"] == 0


@pytest.mark.parametrize("label", ["x" * 256, "a\x00b", "x" * 60_000])
def test_a_label_search_refuses_what_no_label_holds(shared_client: TestClient, label: str) -> None:
    client = shared_client
    reply = client.get("/api/jobs", params={"label": label}, headers=auth())
    assert reply.status_code == 400
    assert reply.json()["message"].startswith("Invalid value")
    assert "'label'" in reply.json()["message"]


def test_a_label_search_for_bytes_no_label_holds_finds_nothing(client: TestClient,
                                                                host: Host) -> None:  # fmt: skip
    host.engine.enqueue("STEPS", {"steps": 1}, label="plain")
    for raw in ("%ED%A0%80", "%FF", "%C0%AF"):  # a lone surrogate cannot travel in a URL
        reply = client.get(f"/api/jobs?label={raw}", headers=auth())
        assert (reply.status_code, reply.json()["count"]) == (200, 0)


def test_a_label_search_does_not_mix_with_filters(client: TestClient) -> None:
    reply = client.get("/api/jobs", params={"label": "x", "status": "PENDING"}, headers=auth())
    assert reply.status_code == 400
    assert reply.json()["message"] == ("Parameter 'label' searches on its own. "
                                       "Allowed with it: after, _size (not status)")  # fmt: skip


@pytest.mark.parametrize("label", [None, "batch"])
def test_next_walks_the_list_page_by_page(client: TestClient, host: Host,
                                          label: str | None) -> None:  # fmt: skip
    made = [host.engine.enqueue("STEPS", {"steps": 1}, label=f"Batch {n}").id for n in range(5)]
    seen: list[str] = []
    query: dict[str, str] = {"_size": "2"} | ({"label": label} if label else {})
    pages = []
    while True:
        page = client.get("/api/jobs", params=query, headers=auth()).json()
        assert page["count"] == 5
        pages.append(len(page["jobs"]))
        seen += [j["id"] for j in page["jobs"]]
        if page["next"] is None:
            break
        query["after"] = page["next"]
    assert pages == [2, 2, 1]
    assert seen == made[::-1]


def test_an_exact_last_page_has_no_next(client: TestClient, host: Host) -> None:
    for _ in range(2):
        host.engine.enqueue("STEPS", {"steps": 1})
    page = client.get("/api/jobs?_size=2", headers=auth()).json()
    assert (len(page["jobs"]), page["next"]) == (2, None)


@pytest.mark.parametrize("after", ["1:x", "99999999999999999999:0123456789abcdef01234567",
                                   "1:0123456789ABCDEF01234567", "\u0661:0123456789abcdef01234567",
                                   "", "1:" + "a" * 10_000])
def test_a_bad_after_is_refused_naming_it(shared_client: TestClient, after: str) -> None:
    client = shared_client
    reply = client.get("/api/jobs", params={"after": after}, headers=auth())
    assert reply.status_code == 400
    assert "'after'" in reply.json()["message"]


# --- OpenAPI and the icon -----------------------------------------------------------------


def test_the_openapi_document_needs_a_token_too(client: TestClient) -> None:
    assert client.get("/api/openapi.json").status_code == 401
    assert client.get("/api/openapi.json", headers=auth(READER)).json()["openapi"] == "3.1.0"


def test_the_favicon_is_an_svg(client: TestClient) -> None:
    for path in ("/favicon.ico", "/static/favicon.svg"):
        reply = client.get(path)
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("image/svg+xml")
        assert reply.text.startswith("<svg")


def test_metrics_count_a_lease_lost_with_its_worker(client: TestClient, host: Host) -> None:
    """A worker that vanished while running a job (its supervisor took the job back): one
    lost lease, in the total and in the window."""
    job = host.engine.enqueue("STEPS", {"steps": 1})
    owner = new_owner()
    (claimed,) = host.engine.leases.claim(owner, limit=1)
    assert claimed.job.id == job.id
    assert host.engine.leases.release_owner(owner, "worker process 1 died", "crashed") == 1
    found = samples(client)
    assert value(found, "sysjobs_lost_leases") == 1
    assert value(found, "sysjobs_lost_leases_window") == 1
