"""The app's jobs on the real engine and worker pool, started from JavaScript as the spec's
samples do, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.app.conftest import AppEnv, make_env
from tests.integration.app.test_execute_action import write_loop_app


def test_spec_sample_execute_action_then_find_by_id(live: AppEnv) -> None:
    job_id = live.js("""
        var jobId = sys.data.executeAction('companies', {type: 'a'}, 'logSomething',
                                           {param1: 'a', param2: 'b'});
        var job = sys.jobs.findById(jobId);
        log('job: ' + job.name());
        jobId;
    """)
    job = live.wait(job_id)
    assert job.type == "EXECUTE_ACTION" and job.progress == 100 and not job.has_errors
    assert {k: v for k, v in job.data.items() if not k.startswith("_")} == {
        "entityName": "companies", "actionName": "logSomething"}
    assert job.results is not None and len(job.results["results"]) == 2
    assert all(r["status"] == "ok" for r in job.results["results"].values())
    messages = [entry.message for entry in live.engine.logs(job_id, {})]
    assert "logSomething on Acme: param1=a, param2=b" in messages


def test_spec_sample_wait_for_job_from_a_script(live: AppEnv) -> None:
    out = live.js("""
        var jobId = sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a', param2: 'b'});
        sys.jobs.waitForJob(jobId, ['FINISHED', 'STOPPED'], 60000);
        var job = sys.jobs.findById(jobId);
        [job.status(), job.progress(), Object.keys(job.results().results).length];
    """)
    assert out == ["FINISHED", 100, 5]


def test_delete_and_import_from_javascript_with_low_priority(live: AppEnv) -> None:
    file_id = live.app.files.put("c.csv", b"name,type\nZed,a\n,b\n")
    ids = live.js(f"""
        [sys.data.importRecords('companies', '{file_id}', {{lowPriority: true}}),
         sys.data.delete('companies', {{type: 'c'}})];
    """)
    imported = live.wait(ids[0])
    assert imported.low_priority and imported.results == {"rowsImported": 1, "rowsWithErrors": 1}
    deleted = live.wait(ids[1])
    assert deleted.results is not None and len(deleted.results["results"]) == 1
    assert live.app.records.count("companies", {"type": "c"}) == 0


def test_long_action_stops_and_resumes_without_redoing_records(
    app_url: str, tmp_path: Path
) -> None:
    live = make_env(app_url, write_loop_app(tmp_path))
    try:
        live.app.records.insert_many(
            "items", [{"name": f"i{i}", "n": i} for i in range(600)], announce=False)
        job_id = live.app.execute_action("items", {}, "touch", {})
        live.wait(job_id, "RUNNING")
        while live.app.records.count("items", {"touched": "1"}) < 50:
            time.sleep(0.01)
        live.engine.stop(job_id)
        stopped = live.wait(job_id, "STOPPED")
        done = live.app.records.count("items", {"touched": "1"})
        assert 50 <= done < 600 and stopped.progress < 100
        live.engine.resume(job_id)
        finished = live.wait(job_id, "FINISHED")
        assert finished.progress == 100 and not finished.has_errors
        assert live.app.records.count("items", {"touched": "1"}) == 600
        assert live.app.records.count("items", {"touched": "greater(1)"}) == 0
        assert finished.results is not None and len(finished.results["results"]) == 600
    finally:
        live.close()


def test_stopped_import_resumes_after_the_last_line_written(live: AppEnv) -> None:
    rows = "".join(f"n{i},{'abc'[i % 3]}\n" for i in range(20_000))
    file_id = live.app.files.put("big.csv", ("name,type\n" + rows).encode())
    job_id = live.app.import_records("companies", file_id)
    deadline = time.monotonic() + 60
    while (live.engine.require(job_id).results or {}).get("rowsImported", 0) < 500:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    live.engine.stop(job_id)
    stopped = live.wait(job_id, "STOPPED", "FINISHED")
    if stopped.status == "STOPPED":
        assert live.app.records.count("companies", {}) - 5 < 20_000
        live.engine.resume(job_id)
    done = live.wait(job_id)
    assert done.results == {"rowsImported": 20_000, "rowsWithErrors": 0}
    assert live.app.records.count("companies", {}) == 20_005
    assert live.app.records.count("companies", {"name": "n0,n19999"}) == 2
