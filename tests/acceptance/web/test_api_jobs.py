"""The JSON API of jobs: list with the spec's filters, show, logs, verbs, low priority, stats."""

from __future__ import annotations

from starlette.testclient import TestClient

from sysjobs.host import Host
from tests.acceptance.web.conftest import auth


def _finished(host: Host, label: str, steps: int = 2) -> str:
    job = host.engine.enqueue("STEPS", {"steps": steps, "step_s": 0.0}, label=label)
    with host.workers(1, in_process=True):
        host.engine.wait(job.id, "FINISHED", 30)
    return job.id


def test_list_is_newest_first_with_count_and_public_data(client: TestClient, host: Host) -> None:
    first = host.engine.enqueue("STEPS", {"steps": 1, "_secret": "hidden"}, label="one")
    second = host.engine.enqueue("STEPS", {"steps": 2}, label="two")
    page = client.get("/api/jobs", headers=auth()).json()
    assert page["count"] == 2
    assert [j["id"] for j in page["jobs"]] == [second.id, first.id]
    assert page["jobs"][1]["data"] == {"steps": 1}
    assert page["jobs"][1]["actions"] == {
        "stop": False,
        "forceStop": False,
        "resume": False,
        "cancel": True,
        "lowPriority": True,
    }


def test_list_filters_are_the_spec_find_parameters(client: TestClient, host: Host) -> None:
    done = _finished(host, "done")
    pending = host.engine.enqueue("STEPS", {"steps": 1}).id
    by_status = client.get("/api/jobs?status=FINISHED", headers=auth()).json()
    assert [j["id"] for j in by_status["jobs"]] == [done]
    both = client.get("/api/jobs?status=PENDING,FINISHED&_size=1", headers=auth()).json()
    assert (both["count"], [j["id"] for j in both["jobs"]]) == (2, [pending])
    no_errors = client.get("/api/jobs?hasErrors=false&type=STEPS", headers=auth()).json()
    assert no_errors["count"] == 2
    started = host.engine.require(done).started_at
    assert started is not None
    ms = int(started.timestamp() * 1000)
    ranged = client.get(f"/api/jobs?startFrom={ms}&startTo={ms}", headers=auth()).json()
    assert [j["id"] for j in ranged["jobs"]] == [done]


def test_bad_filter_is_a_400_naming_the_parameter(client: TestClient) -> None:
    reply = client.get("/api/jobs?status=DONE", headers=auth())
    assert reply.status_code == 400
    assert reply.json() == {
        "code": "badRequest",
        "message": "Invalid value 'DONE' for parameter 'status'. Allowed values: PENDING, "
        "RUNNING, FINISHED, STOPPING, STOPPED, CANCELING, CANCELED",
    }
    unknown = client.get("/api/jobs?colour=red", headers=auth())
    assert (unknown.status_code, unknown.json()["code"]) == (400, "badRequest")


def test_show_has_results_and_transitions(client: TestClient, host: Host) -> None:
    job_id = _finished(host, "shown")
    job = client.get(f"/api/jobs/{job_id}", headers=auth()).json()
    assert (job["status"], job["progress"], job["results"]) == ("FINISHED", 100, {"done": 2})
    assert [e["to"] for e in job["events"]] == ["PENDING", "RUNNING", "FINISHED"]


def test_unknown_and_malformed_ids(client: TestClient) -> None:
    missing = client.get("/api/jobs/0123456789abcdef01234567", headers=auth())
    assert (missing.status_code, missing.json()["code"]) == (404, "notFound")
    malformed = client.get("/api/jobs/nope", headers=auth())
    assert (malformed.status_code, malformed.json()["code"]) == (400, "badRequest")
    route = client.get("/api/nothing-here", headers=auth())
    assert (route.status_code, route.json()["code"]) == (404, "notFound")


def test_logs_filter_by_level_message_and_follow_after(client: TestClient, host: Host) -> None:
    job_id = _finished(host, "logged", steps=3)
    host.engine.log_error(job_id, "Something broke")
    url = f"/api/jobs/{job_id}/logs"
    everything = client.get(url, headers=auth()).json()
    assert [e["message"] for e in everything["logs"]] == [
        "step 1 of 3",
        "step 2 of 3",
        "step 3 of 3",
        "Something broke",
    ]
    errors = client.get(url + "?level=ERROR", headers=auth()).json()
    assert [e["message"] for e in errors["logs"]] == ["Something broke"]
    matching = client.get(url + "?message=STEP%202", headers=auth()).json()
    assert [e["message"] for e in matching["logs"]] == ["step 2 of 3"]
    second = everything["logs"][1]
    after = client.get(f"{url}?after={second['timestamp']}:{second['id']}", headers=auth()).json()
    assert [e["message"] for e in after["logs"]] == ["step 3 of 3", "Something broke"]
    recent = client.get(url + "?period=10m&_size=1", headers=auth()).json()
    assert (recent["count"], len(recent["logs"])) == (4, 1)
    odd = client.get(url + "?after=1:1&from=soon", headers=auth())
    assert (odd.status_code, odd.json()["code"]) == (400, "badRequest")
    bad = client.get(url + "?level=DEBUG", headers=auth())
    assert (bad.status_code, bad.json()["code"]) == (400, "badRequest")


def test_stop_then_resume_then_finish(client: TestClient, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 40, "step_s": 0.05})
    with host.workers(1, in_process=True):
        host.engine.wait(job.id, "RUNNING", 30)
        stopped = client.post(f"/api/jobs/{job.id}/stop", headers=auth())
        assert stopped.status_code == 200
        assert stopped.json()["status"] in ("STOPPING", "STOPPED")
        host.engine.wait(job.id, "STOPPED", 30)
        view = client.get(f"/api/jobs/{job.id}", headers=auth()).json()
        assert view["actions"]["resume"] and not view["actions"]["stop"]
        resumed = client.post(f"/api/jobs/{job.id}/resume", headers=auth())
        assert resumed.json()["status"] == "PENDING"
        done = host.engine.wait(job.id, "FINISHED", 60)
    assert done.results == {"done": 40}


def test_illegal_verb_is_a_400_naming_the_status(client: TestClient, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    reply = client.post(f"/api/jobs/{job.id}/resume", headers=auth())
    assert reply.status_code == 400
    assert reply.json()["message"] == (
        f"Cannot resume job {job.id}: its status is PENDING. "
        "Allowed only when the status is: STOPPED"
    )
    unknown = client.post(f"/api/jobs/{job.id}/explode", headers=auth())
    assert (unknown.status_code, unknown.json()["code"]) == (404, "notFound")


def test_cancel_and_low_priority(client: TestClient, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1})
    flagged = client.post(f"/api/jobs/{job.id}/low-priority", json={"lowPriority": True},
                          headers=auth())  # fmt: skip
    assert flagged.json()["lowPriority"] is True
    bad = client.post(f"/api/jobs/{job.id}/low-priority", json={"lowPriority": "yes"},
                      headers=auth())  # fmt: skip
    assert (bad.status_code, bad.json()["code"]) == (400, "badRequest")
    canceled = client.post(f"/api/jobs/{job.id}/cancel", headers=auth())
    assert canceled.json()["status"] == "CANCELED"
    late = client.post(f"/api/jobs/{job.id}/low-priority", json={"lowPriority": False},
                       headers=auth())  # fmt: skip
    assert late.status_code == 400
    assert "its status is CANCELED" in late.json()["message"]


def test_stats_count_depth_running_and_throughput(client: TestClient, host: Host) -> None:
    _finished(host, "counted")
    host.engine.enqueue("STEPS", {"steps": 1})
    stats = client.get("/api/stats", headers=auth()).json()
    assert (stats["pending"], stats["running"], stats["finishedInWindow"]) == (1, 0, 1)
    assert stats["oldestPendingAgeMs"] >= 0
    assert stats["byStatus"]["FINISHED"] == 1
    assert stats["queues"][0]["queue"] == "mix"
    assert (stats["lostLeasesInWindow"], stats["lostLeasesTotal"]) == (0, 0)
    for window in ("-1", "nan", "inf", "soon"):
        bad = client.get(f"/api/stats?window={window}", headers=auth())
        assert (bad.status_code, bad.json()["code"]) == (400, "badRequest"), window
