"""DELETE_RECORDS, IMPORT_RECORDS and EXPORT_RECORDS end to end, with their exact shapes."""

from __future__ import annotations

import csv
import io

import pytest

from sysjobs.app.jobtypes import loop
from sysjobs.app.records import Record
from sysjobs.errors import BadRequest, NotFound
from tests.integration.app.conftest import AppEnv
from tests.integration.app.harness import StopAt, stop_checks_at_every_record


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): each test opens
    its app and workers (``env``) and closes them, the workers stopped and their threads
    joined, so it needs only an empty migrated database; taking a new one from the pool
    cost more than several of these tests."""
    return reused_db_url


def test_delete_records_deletes_matches_with_per_record_results(env: AppEnv) -> None:
    ids = [r.id for r in env.app.records.find("companies", {"type": "a"})[0]]
    job = env.jobs.run(env.app.delete_records("companies", {"type": "a"}))
    assert job.public_data() == {"entityName": "companies"}
    assert job.results == {"results": {i: {"status": "ok"} for i in ids}}
    assert job.progress == 100
    assert env.app.records.count("companies", {"type": "a"}) == 0
    assert env.app.records.count("companies", {}) == 3


#: Records of the stopped delete: past the results cap of 1,000 entries, in eleven chunks of
#: 100; the stop lands after the first. (It was 3,000 records and a test polling until 50
#: were gone: the same stop, the same capped results.)
DELETED = 1100


def test_stopped_delete_resumes_without_redoing_work(
    env: AppEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop_checks_at_every_record(monkeypatch)
    total = DELETED
    env.app.records.insert_many(
        "companies", [{"name": f"c{i}", "type": "c"} for i in range(total)], announce=False
    )
    first_chunk, gone = StopAt(), [0]

    def count(event: str, record: Record, _old: Record | None) -> None:
        gone[0] += event == "deleted"
        if gone[0] == loop.CHUNK:  # the first chunk's records are deleted (one transaction)
            first_chunk.hold()

    env.app.records.hooks.append(count)
    job_id = env.app.delete_records("companies", {"type": "c"})
    first_chunk.stop(env.engine, job_id)  # seen at the next chunk's stop check
    stopped = env.wait(job_id, "STOPPED")
    left = env.app.records.count("companies", {"type": "c"})
    assert 0 < left < total + 1 and stopped.progress < 100
    env.engine.resume(job_id)
    job = env.jobs.run(job_id)
    assert job.status == "FINISHED" and not job.has_errors and job.progress == 100
    assert job.results is not None
    assert len(job.results["results"]) == 1000  # capped
    assert all(v == {"status": "ok"} for v in job.results["results"].values())
    assert env.app.records.count("companies", {"type": "c"}) == 0


CSV_WITH_BAD_ROWS = (
    "name,type,employees,active,founded\n"
    "Alpha,a,10,true,2001-01-01\n"
    "Beta,z,20,false,2002-02-02\n"  # line 3: bad choice
    "Gamma,b,lots,true,\n"  # line 4: bad number
    ",a,5,true,\n"  # line 5: missing required name
    "Delta,c,40,,2004-04-04\n"
)


def test_import_records_logs_bad_rows_with_line_and_reason_and_writes_nothing_for_them(
    env: AppEnv,
) -> None:
    file_id = env.app.files.put("companies.csv", CSV_WITH_BAD_ROWS.encode())
    before = env.app.records.count("companies", {})
    job = env.jobs.run(env.app.import_records("companies", file_id))
    assert job.public_data() == {"fileName": "companies.csv", "entityName": "companies"}
    assert job.results == {"rowsImported": 2, "rowsWithErrors": 3}
    errors = job.errors()
    assert errors[0].startswith("Line 3:") and "'type'" in errors[0] and "'z'" in errors[0]
    assert errors[1].startswith("Line 4:") and "'employees'" in errors[1]
    assert errors[2].startswith("Line 5:") and "name" in errors[2]
    assert env.app.records.count("companies", {}) == before + 2
    assert env.app.records.count("companies", {"name": "Beta,Gamma"}) == 0
    alpha = env.app.records.find_one("companies", {"name": "Alpha"})
    assert alpha is not None
    assert alpha.fields == {"name": "Alpha", "type": "a", "employees": 10, "active": True,
                            "founded": "2001-01-01"}


def test_import_records_validates_entity_and_file_before_enqueuing(env: AppEnv) -> None:
    with pytest.raises(BadRequest, match="'entityName'"):
        env.app.import_records("nope", "0" * 24)
    with pytest.raises(NotFound):
        env.app.import_records("companies", "0" * 24)
    with pytest.raises(BadRequest, match="'fileId'"):
        env.app.import_records("companies", "abc")


def test_export_records_writes_a_csv_file_whose_link_holds_no_secret(env: AppEnv) -> None:
    job = env.jobs.run(env.app.export_records("companies", {"type": "a"}))
    assert job.public_data() == {"entityName": "companies"}
    assert job.results is not None
    assert set(job.results) == {"fileLink", "fileId", "recordsExported"}
    assert job.results["recordsExported"] == 2
    link, file_id = job.results["fileLink"], job.results["fileId"]
    # The contract: the downloader sends its token in the headers; the link carries none.
    assert link == f"/api/files/{file_id}/download"
    stored = env.app.files.get(file_id)
    rows = list(csv.DictReader(io.StringIO(stored.content.decode())))
    assert [r["name"] for r in rows] == ["Acme", "Globex"]
    assert rows[0]["address.city"] == "Springfield"


def test_files_refuse_malformed_and_unknown_ids(env: AppEnv) -> None:
    for bad in ("abc", "0" * 24 + "\n", "../" * 8, "A" * 24, "0" * 10_000):
        with pytest.raises(BadRequest, match="'fileId'"):
            env.app.files.get(bad)
    with pytest.raises(NotFound):
        env.app.files.get("0" * 24)


def test_exported_file_imports_back(env: AppEnv) -> None:
    job = env.jobs.run(env.app.export_records("companies", {}))
    assert job.results is not None
    job = env.jobs.run(env.app.import_records("companies", job.results["fileId"]))
    assert job.results == {"rowsImported": 5, "rowsWithErrors": 0}
    assert env.app.records.count("companies", {"name": "Acme"}) == 2
