"""EXECUTE_ACTION over a chunk of records (one sandbox call, each record a run of its own):
text a record's action hands back — its response, the message of what it threw — holds what
no database stores as it is (a lone UTF-16 surrogate, NUL) or is large. That record ends as
the script said (its response kept, its error its own), the others are untouched, and the
job ends FINISHED — never "Job failed: …", never ``systemException``. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.app.definition import load_app
from tests.integration.app.conftest import AppEnv, make_env

APP = """
name: hostiletext
entities:
  items:
    labelField: name
    fields:
      name: {type: text, required: true}
      n: {type: number}
    actions:
      answers: {script: answers.js, returnsResponse: true}
      echoes: {script: echoes.js, returnsResponse: true}
"""
#: Record 1 answers a lone surrogate, 2 a NUL, 3 throws both, 4 throws a 1 MB message; the
#: others their number.
ANSWERS = """
var n = record.field('n').val();
if (n === 1) return 'a\\ud800b';
if (n === 2) return {text: 'a\\u0000b', 'k\\u0000': ['\\udfff']};
if (n === 3) throw new Error('bad \\ud800 \\u0000 end');
if (n === 4) throw new Error('x'.repeat(1 << 20));
return n;
"""


#: Echoes the record's name: a record whose name is a megabyte answers a megabyte.
ECHOES = "return record.field('name').val();"


@pytest.fixture
def text_env(db_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    (tmp_path / "app.yaml").write_text(APP, "utf-8")
    (tmp_path / "answers.js").write_text(ANSWERS, "utf-8")
    (tmp_path / "echoes.js").write_text(ECHOES, "utf-8")
    env = make_env(db_url, load_app(tmp_path))
    yield env
    env.close()


def test_hostile_text_a_record_hands_back_is_that_records_alone(text_env: AppEnv) -> None:
    rows = [{"name": f"item {i}", "n": i} for i in range(8)]
    text_env.app.records.insert_many("items", rows, announce=False)
    found, _ = text_env.app.records.find("items", {"_size": 20})
    ids = {int(r.fields["n"]): str(r.id) for r in found}
    job = text_env.jobs.run(text_env.app.execute_action("items", {}, "answers", {}))
    assert job.status == "FINISHED" and job.has_errors, job
    assert job.results is not None and "results" in job.results, (job.results, job.logs)
    results = job.results["results"]
    assert {ids[i]: results[ids[i]] for i in (0, 5, 6, 7)} == {
        ids[i]: {"status": "ok", "response": i} for i in (0, 5, 6, 7)}  # fmt: skip
    assert results[ids[1]]["status"] == "ok" and results[ids[1]]["response"].startswith("a")
    assert results[ids[2]]["status"] == "ok"
    assert results[ids[3]]["status"] == "error"
    assert results[ids[3]]["errorMessage"].startswith("Error: bad ")
    assert results[ids[4]]["status"] == "error"
    assert len(results[ids[4]]["errorMessage"]) < 100_000, "capped as its log line is"
    assert not any("systemException" in m or "Job failed" in m for _, m in job.logs), job.logs


def test_one_records_megabyte_response_leaves_the_other_records_results(
    text_env: AppEnv,
) -> None:
    rows = [{"name": "x" * (1 << 20) if i == 1 else f"item {i}", "n": i} for i in range(4)]
    text_env.app.records.insert_many("items", rows, announce=False)
    found, _ = text_env.app.records.find("items", {"_size": 20})
    ids = {int(r.fields["n"]): str(r.id) for r in found}
    job = text_env.jobs.run(text_env.app.execute_action("items", {}, "echoes", {}))
    assert job.status == "FINISHED"
    results = (job.results or {}).get("results") or {}
    assert {ids[i]: results.get(ids[i]) for i in (0, 2, 3)} == {
        ids[i]: {"status": "ok", "response": f"item {i}"} for i in (0, 2, 3)}  # fmt: skip
    big = results[ids[1]]
    assert big["status"] == "ok" and big["response"]["truncated"] is True, big
    assert big["response"]["bytes"] > 1 << 20


def test_large_responses_share_the_results_and_every_record_keeps_its_status(
    text_env: AppEnv,
) -> None:
    # 30 records answering 64 KiB each: twice the results' cap together. The first ones
    # fit and keep their response; the rest keep their status with a marker, and the job's
    # results stay under the cap instead of being dropped whole.
    rows = [{"name": f"{i:02d}" + "y" * (64 * 1024), "n": i} for i in range(30)]
    text_env.app.records.insert_many("items", rows, announce=False)
    job = text_env.jobs.run(text_env.app.execute_action("items", {}, "echoes", {}))
    assert job.status == "FINISHED" and not job.has_errors, job
    results = (job.results or {}).get("results")
    assert isinstance(results, dict) and len(results) == 30, job.results
    assert all(entry["status"] == "ok" for entry in results.values())
    kept = [e for e in results.values() if isinstance(e["response"], str)]
    marked = [e for e in results.values() if isinstance(e["response"], dict)]
    assert kept and marked and len(kept) + len(marked) == 30
    assert all(e["response"]["truncated"] is True for e in marked)
    assert all(len(e["response"]) == 2 + 64 * 1024 for e in kept)
