"""enqueue_many: thousands of jobs in one transaction, stored exactly as given.

On PostgreSQL the rows travel as one JSON array (``json_populate_recordset``), on SQLite as
an ``executemany``; both must store every value as it was, with one creation event per job.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, JobStatus
from sysjobs.worker.scripts import script_job_type
from tests.integration.engine.helpers import open_engine

AWKWARD = [
    "plain",
    "quotes \" ' and back\\slash",
    "unicode: é ü 中文 🚀 \u2028",
    "json-looking: {\"a\": [1, 2]}",
    "",
]


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine and pool they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url) as engine:
        engine.register(script_job_type())
        yield engine


def test_every_value_is_stored_as_given(eng: Engine) -> None:
    items = [
        {"_source": f"// {text}\n{i}", "_timeout_s": 1.5 + i} for i, text in enumerate(AWKWARD)
    ]
    jobs = eng.enqueue_many("RUN_SCRIPT", items, label="batch \"β\"", low_priority=True)
    for job, item in zip(jobs, items, strict=True):
        stored = eng.require(job.id)
        assert stored == job
        assert stored.data == item and stored.label == 'batch "β"' and stored.low_priority
        assert stored.status is JobStatus.PENDING and stored.progress == 0
        assert not stored.has_errors and stored.attempt == 0
        (created,) = eng.events(job.id)
        assert (created.from_status, created.to_status) == (None, JobStatus.PENDING)


def test_a_large_batch_lands_in_one_transaction(eng: Engine) -> None:
    jobs = eng.enqueue_many("NOOP", [{} for _ in range(2_000)])
    assert len({j.id for j in jobs}) == 2_000
    assert eng.find({"type": "NOOP"}).count() == 2_000
