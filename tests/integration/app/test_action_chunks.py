"""EXECUTE_ACTION runs a chunk of records in one sandbox call, and what one record's action
does stays that record's: a throw or a loop fails it alone, a promise it leaves never runs
inside another record's action, its ``log()`` line and result are its own. Globals are
shared by the records of one job (its session), never by two jobs. Both databases.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.app.definition import AppDefinition, load_app
from sysjobs.app.jobtypes import actions
from tests.integration.app.conftest import AppEnv, make_env
from tests.integration.app.harness import stop_checks_at_every_record

CHUNK_APP = """
name: chunks
entities:
  marks:
    labelField: name
    fields:
      name: {type: text, required: true}
  items:
    labelField: name
    fields:
      name: {type: text, required: true}
      n: {type: number}
    actions:
      each: {script: each.js, returnsResponse: true}
      throws: {script: throws.js, returnsResponse: true}
      loops: {script: loops.js, returnsResponse: true}
      leaves: {script: leaves.js, returnsResponse: true}
      counts: {script: counts.js, returnsResponse: true}
      wedges: {script: wedges.js, returnsResponse: true}
      waits: {script: waits.js, returnsResponse: true}
"""
SCRIPTS = {
    "each.js": "log('item ' + record.field('n').val()); return record.field('n').val();",
    "throws.js": (
        "if (record.field('name').val() === 'bad') throw new Error('bad ' + record.label());"
        " return record.field('n').val();"
    ),
    "loops.js": (
        "if (record.field('name').val() === 'bad') { while (true) {} }"
        " return record.field('n').val();"
    ),
    "leaves.js": (
        "var n = record.field('n').val();\n"
        "if (n === 0) Promise.resolve().then(function () { globalThis.late = 'ran';"
        " log('late of 0'); });\n"
        "log('sync ' + n);\n"
        "return typeof late;"
    ),
    "counts.js": (
        "globalThis.count = (typeof count === 'number' ? count : 0) + 1; return count;"
    ),
    "waits.js": (
        "var n = record.field('n').val();\n"
        "if (n === 40) { var me = sys.jobs.getCurrentJobId();\n"
        "  var m = sys.data.createRecord('marks'); m.field('name').val('at 40'); sys.data.save(m);\n"
        "  while (sys.jobs.findById(me).status() !== 'STOPPING') {} }\n"
        "log('did ' + n);\n"
        "return n;"
    ),
    "wedges.js": (
        "if (record.field('name').val() === 'bad') {"
        " (async function () { while (true) { await 0; } })(); }"
        " return record.field('n').val();"
    ),
}


def write_chunk_app(folder: Path) -> AppDefinition:
    (folder / "app.yaml").write_text(CHUNK_APP)
    for name, source in SCRIPTS.items():
        (folder / name).write_text(source)
    return load_app(folder)


@pytest.fixture
def chunk_env(app_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppEnv]:
    # the looping record ends soon: the loops and wedges tests spin until this limit, and a
    # record of the other actions takes milliseconds (1 s was 2 s: half of their CPU)
    monkeypatch.setattr(actions, "RECORD_TIMEOUT_S", 1.0)
    env = make_env(app_url, write_chunk_app(tmp_path))
    yield env
    env.close()


def _seed(env: AppEnv, n: int, bad: int | None = None) -> dict[int, str]:
    rows = [{"name": "bad" if i == bad else f"item {i}", "n": i} for i in range(n)]
    env.app.records.insert_many("items", rows, announce=False)
    found, _count = env.app.records.find("items", {"_size": n + 1})
    return {int(r.fields["n"]): str(r.id) for r in found}


def test_every_record_logs_its_line_and_has_its_result(chunk_env: AppEnv) -> None:
    ids = _seed(chunk_env, 250)
    job = chunk_env.jobs.run(chunk_env.app.execute_action("items", {}, "each", {}))
    assert job.status == "FINISHED" and not job.has_errors and job.progress == 100
    results = (job.results or {})["results"]
    assert results == {ids[i]: {"status": "ok", "response": i} for i in range(250)}
    lines = sorted(m for level, m in job.logs if level == "INFO" and m.startswith("item "))
    assert lines == sorted(f"item {i}" for i in range(250))


def test_a_record_whose_action_throws_fails_alone(chunk_env: AppEnv) -> None:
    ids = _seed(chunk_env, 120, bad=42)
    job = chunk_env.jobs.run(chunk_env.app.execute_action("items", {}, "throws", {}))
    assert job.status == "FINISHED" and job.has_errors
    results = (job.results or {})["results"]
    assert results.pop(ids[42]) == {"status": "error", "errorMessage": "Error: bad bad"}
    assert results == {ids[i]: {"status": "ok", "response": i} for i in range(120) if i != 42}
    assert job.errors() == [f"Record {ids[42]}: Error: bad bad"]


def test_a_record_whose_action_loops_times_out_alone(chunk_env: AppEnv) -> None:
    ids = _seed(chunk_env, 30, bad=3)
    job = chunk_env.jobs.run(chunk_env.app.execute_action("items", {}, "loops", {}))
    assert job.status == "FINISHED" and job.has_errors
    results = (job.results or {})["results"]
    bad = results.pop(ids[3])
    assert bad["status"] == "error" and bad["errorMessage"].startswith("timeout: "), bad
    assert results == {ids[i]: {"status": "ok", "response": i} for i in range(30) if i != 3}


def test_a_promise_a_record_leaves_runs_after_its_chunk_never_inside_another_record(
    chunk_env: AppEnv,
) -> None:
    ids = _seed(chunk_env, 150)
    job = chunk_env.jobs.run(chunk_env.app.execute_action("items", {}, "leaves", {}))
    assert job.status == "FINISHED" and not job.has_errors
    results = (job.results or {})["results"]
    # The first chunk (records 0-99) ran before record 0's `then`; the next chunk after it.
    assert {results[ids[i]]["response"] for i in range(100)} == {"undefined"}
    assert {results[ids[i]]["response"] for i in range(100, 150)} == {"string"}
    assert ("INFO", "late of 0") in job.logs


def test_globals_are_shared_by_the_records_of_one_job_and_not_by_the_next_job(
    chunk_env: AppEnv,
) -> None:
    ids = _seed(chunk_env, 130)
    first = chunk_env.jobs.run(chunk_env.app.execute_action("items", {}, "counts", {}))
    second = chunk_env.jobs.run(chunk_env.app.execute_action("items", {}, "counts", {}))
    for job in (first, second):
        results = (job.results or {})["results"]
        assert sorted(results[ids[i]]["response"] for i in range(130)) == list(range(1, 131))


def test_work_a_record_leaves_running_past_the_limit_fails_its_chunk_and_the_rest_run_one_by_one(
    chunk_env: AppEnv,
) -> None:
    """Which record of the chunk left the loop is not known: each of its records fails
    with ``timeout``; the records after the chunk run one sandbox call each, and succeed."""
    ids = _seed(chunk_env, 130, bad=5)
    job = chunk_env.jobs.run(chunk_env.app.execute_action("items", {}, "wedges", {}))
    assert job.status == "FINISHED" and job.has_errors
    results = (job.results or {})["results"]
    for i in range(100):
        entry = results[ids[i]]
        assert entry["status"] == "error" and entry["errorMessage"].startswith("timeout: ")
    assert {ids[i]: results[ids[i]] for i in range(100, 130)} == {
        ids[i]: {"status": "ok", "response": i} for i in range(100, 130)
    }
    assert len(job.errors()) == 100


def test_a_stop_lands_between_two_records_of_a_chunk_and_the_resumed_job_does_each_once(
    chunk_env: AppEnv, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Record 40's action waits until the job is asked to stop; the stop check between two
    records ends the job there, inside its first chunk — not after all 200 (two chunks of
    100: a stop only at the end of a chunk could not show it, and the resumed job's rest
    spans a chunk boundary); the resumed job runs the rest, no record twice.

    The job's status is read between every two records here
    (``stop_checks_at_every_record``; at most every 0.1 s otherwise), so the stop lands at
    record 41 whatever the machine's pace. (Each record spun 5 ms so that a check 0.1 s
    apart still came before the end of the first chunk: a second of CPU per run.)"""
    monkeypatch.setattr(actions, "RECORD_TIMEOUT_S", 120.0)
    stop_checks_at_every_record(monkeypatch)
    total = 200  # (was 400 records of 10 ms: the same chunks and stop, a quarter of the CPU)
    ids = _seed(chunk_env, total)
    marked = threading.Event()  # record 40's action saved its mark and waits for the stop
    chunk_env.app.records.hooks.append(
        lambda _event, record, _old: marked.set() if record.entity == "marks" else None
    )
    job_id = chunk_env.app.execute_action("items", {}, "waits", {})
    assert marked.wait(timeout=120), "record 40's action never saved its mark"
    chunk_env.engine.stop(job_id)
    stopped = chunk_env.wait(job_id, "STOPPED")
    done = len((stopped.results or {}).get("results", {}))
    assert 41 <= done < total and stopped.progress < 100, done
    chunk_env.engine.resume(job_id)
    job = chunk_env.jobs.run(job_id)
    assert job.status == "FINISHED" and not job.has_errors
    results = (job.results or {})["results"]
    assert results == {ids[i]: {"status": "ok", "response": i} for i in range(total)}
    did = sorted(m for level, m in job.logs if m.startswith("did "))
    assert did == sorted(f"did {i}" for i in range(total)), "each record's line once"
