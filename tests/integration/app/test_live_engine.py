"""The app's jobs on the real engine and worker pool, started from JavaScript as the spec's
samples do, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sysjobs.app.jobtypes import bulk
from sysjobs.app.records import Record
from tests.integration.app.conftest import AppEnv, make_env
from tests.integration.app.harness import StopAt, stop_checks_at_every_record
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


#: Records of the long action: three chunks of 100 (``loop.CHUNK``); the stop lands in the
#: first, after the 50th record, so the resumed job's rest spans two chunk boundaries.
#: (It was 600 records and a test polling until 50 were touched: the same stop and resume.)
LONG_ACTION_RECORDS = 250


def test_long_action_stops_and_resumes_without_redoing_records(
    app_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop_checks_at_every_record(monkeypatch)
    total = LONG_ACTION_RECORDS
    live = make_env(app_url, write_loop_app(tmp_path))
    try:
        live.app.records.insert_many(
            "items", [{"name": f"i{i}", "n": i} for i in range(total)], announce=False)
        at_50, touched = StopAt(), [0]

        def count(_event: str, record: Record, _old: Record | None) -> None:
            touched[0] += record.entity == "items"
            if touched[0] == 50:
                at_50.hold()

        live.app.records.hooks.append(count)
        job_id = live.app.execute_action("items", {}, "touch", {})
        at_50.stop(live.engine, job_id)
        stopped = live.wait(job_id, "STOPPED")
        done = live.app.records.count("items", {"touched": "1"})
        assert 50 <= done < total and stopped.progress < 100
        live.engine.resume(job_id)
        finished = live.wait(job_id, "FINISHED")
        assert finished.progress == 100 and not finished.has_errors
        assert live.app.records.count("items", {"touched": "1"}) == total
        assert live.app.records.count("items", {"touched": "greater(1)"}) == 0
        assert finished.results is not None and len(finished.results["results"]) == total
    finally:
        live.close()


#: Rows of the stopped import: five batches of 100 (``bulk.BATCH``); the stop lands after
#: the first batch, so the resumed import writes four more. (It was 20,000 rows, so that a
#: stop sent once a polling test saw 500 rows landed before the end.)
IMPORT_ROWS = 500


def test_stopped_import_resumes_after_the_last_line_written(
    live: AppEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = IMPORT_ROWS
    stop_checks_at_every_record(monkeypatch)
    after_first_batch, flush = StopAt(), bulk._flush

    def flushed(*args: Any) -> None:
        flush(*args)
        if not after_first_batch.reached.is_set():
            after_first_batch.hold()

    monkeypatch.setattr(bulk, "_flush", flushed)
    rows = "".join(f"n{i},{'abc'[i % 3]}\n" for i in range(total))
    file_id = live.app.files.put("big.csv", ("name,type\n" + rows).encode())
    job_id = live.app.import_records("companies", file_id)
    after_first_batch.stop(live.engine, job_id)
    stopped = live.wait(job_id, "STOPPED", "FINISHED")
    if stopped.status == "STOPPED":
        assert live.app.records.count("companies", {}) - 5 < total
        live.engine.resume(job_id)
    done = live.wait(job_id)
    assert done.results == {"rowsImported": total, "rowsWithErrors": 0}
    assert live.app.records.count("companies", {}) == total + 5
    assert live.app.records.count("companies", {"name": f"n0,n{total - 1}"}) == 2
