"""EXECUTE_ACTION end to end: data()/results() shapes, per-record errors, caps, stop/resume."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.app.definition import AppDefinition, load_app
from sysjobs.errors import BadRequest
from sysjobs.worker.pool import WorkerPool
from tests.integration.app.conftest import AppEnv, make_env

#: Records an action runs over: past the spec's cap of 1,000 results entries, and eleven
#: chunks of 100 (``sysjobs/app/jobtypes/loop.py``); ``SYSJOBS_CHAOS_HEAVY=1``: 2,500.
OVER_THE_CAP = 2500 if os.environ.get("SYSJOBS_CHAOS_HEAVY") == "1" else 1100

LOOP_APP = """
name: loop
entities:
  items:
    labelField: name
    fields:
      name: {type: text, required: true}
      n: {type: number}
      touched: {type: number}
    actions:
      touch:
        script: touch.js
        returnsResponse: true
      fails:
        script: fails.js
"""
TOUCH_JS = """
if (record.field('name').val() === 'bad') throw new Error('bad record ' + record.id());
record.field('touched').val((record.field('touched').val() || 0) + 1);
sys.data.save(record);
return record.field('n').val();
"""


def write_loop_app(folder: Path) -> AppDefinition:
    (folder / "app.yaml").write_text(LOOP_APP)
    (folder / "touch.js").write_text(TOUCH_JS)
    (folder / "fails.js").write_text("throw new Error('always');")
    return load_app(folder)


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): each test opens
    its app and workers (``env``/``loop_env``) and closes them, the workers stopped and
    joined, so it needs only an empty migrated database; taking a new one from the pool cost
    more than several of these tests."""
    return reused_db_url


@pytest.fixture
def loop_env(app_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    """The loop app with a worker pool of one slot: its test runs one job, which one slot
    runs as four do, without three idle slots polling the database for claims meanwhile
    (on SQLite their claims contended with each record's save: ~1.5 s of CPU a run)."""
    env = make_env(app_url, write_loop_app(tmp_path), workers=False)
    env.pool = WorkerPool(env.engine, concurrency=1, script_runner=env.runner).start()
    yield env
    env.close()


def test_execute_action_on_matching_companies_has_spec_data_and_results(env: AppEnv) -> None:
    job_id = env.app.execute_action("companies", {"type": "a"}, "logSomething",
                                    {"param1": "a", "param2": "b"})
    job = env.jobs.run(job_id)
    assert job.public_data() == {"entityName": "companies", "actionName": "logSomething"}
    assert job.status == "FINISHED" and job.progress == 100 and not job.has_errors
    assert job.results is not None
    acme = env.app.records.find_one("companies", {"name": "Acme"})
    assert acme is not None and acme.id is not None
    assert set(job.results) == {"results"}
    assert job.results["results"][acme.id] == {"status": "ok", "response": "logged Acme with a/b"}
    assert len(job.results["results"]) == 2
    assert ("INFO", "logSomething on Acme: param1=a, param2=b") in job.logs


def test_many_records_action_gives_status_and_response(env: AppEnv) -> None:
    job = env.jobs.run(env.app.execute_action("companies", {"type": "a,b"}, "countByType", {}))
    assert job.results == {"results": {"status": "ok", "response": 4}}


def test_global_action_runs_once_and_creates_a_record(env: AppEnv) -> None:
    job = env.jobs.run(env.app.execute_action(None, {}, "quickAdd", {"name": "Newco"}))
    assert job.results is not None
    new_id = job.results["results"]["response"]
    assert job.results["results"]["status"] == "ok"
    found = env.app.records.find_by_id("companies", new_id)
    assert found is not None and found.label == "Newco"


def test_execute_action_rejects_bad_inputs_before_enqueuing(env: AppEnv) -> None:
    with pytest.raises(BadRequest, match="'actionName'"):
        env.app.execute_action("companies", {}, "nope", {})
    with pytest.raises(BadRequest, match="Invalid parameter 'param9'"):
        env.app.execute_action("companies", {}, "logSomething", {"param9": 1})
    with pytest.raises(BadRequest, match="Invalid field 'colour'"):
        env.app.execute_action("companies", {"colour": "red"}, "logSomething", {})
    assert env.jobs.count() == 0


@pytest.mark.slow
def test_action_over_more_records_than_the_results_cap_caps_results_and_flags_the_failing_one(
    loop_env: AppEnv,
) -> None:
    env = loop_env
    rows = [{"name": "bad" if i == 7 else f"item {i}", "n": i} for i in range(OVER_THE_CAP)]
    env.app.records.insert_many("items", rows, announce=False)
    job = env.jobs.run(env.app.execute_action("items", {}, "touch", {}))
    assert job.status == "FINISHED" and job.progress == 100
    assert job.results is not None
    results = job.results["results"]
    assert len(results) == 1000
    bad = env.app.records.find_one("items", {"name": "bad"})
    assert bad is not None and bad.id is not None
    assert results[bad.id]["status"] == "error"
    assert "bad record" in results[bad.id]["errorMessage"]
    assert job.has_errors and len(job.errors()) == 1 and bad.id in job.errors()[0]
    assert env.app.records.count("items", {"touched": "1"}) == OVER_THE_CAP - 1


def test_size_in_the_query_bounds_the_records_acted_on(env: AppEnv) -> None:
    job = env.jobs.run(env.app.execute_action("companies", {"_size": 3}, "logSomething", {}))
    assert job.results is not None and len(job.results["results"]) == 3
    assert job.progress == 100
