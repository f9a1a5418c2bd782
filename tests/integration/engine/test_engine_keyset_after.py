"""``logs(…, after=)`` and ``find(…, after=)``: a reader pages a long result by keyset — each
row once, in order, rows sharing a millisecond included — whatever the filters."""

from __future__ import annotations

from sysjobs.jobs import Engine
from sysjobs.jobs.models import to_ms
from sysjobs.store.schema import job_logs
from tests.integration.engine.jobtypes import register


def _page_logs(engine: Engine, job_id: str, size: int, query: dict[str, object]) -> list[str]:
    seen: list[str] = []
    after: tuple[int, int] | None = None
    while True:
        page = list(engine.logs(job_id, {**query, "_size": size}, after=after))
        seen += [entry.message for entry in page]
        if len(page) < size:
            return seen
        after = (to_ms(page[-1].timestamp) or 0, page[-1].id)


def test_logs_after_a_position_walk_every_line_once(engine: Engine) -> None:
    register(engine)
    job = engine.enqueue("NOOP", {})
    rows = [{"job_id": job.id, "app": engine.app, "ts_ms": 1_700_000_000_000 + n // 4, "level": "INFO",
             "message": f"line {n}"} for n in range(101)]  # four lines share each millisecond
    with engine.database.engine.begin() as conn:
        conn.execute(job_logs.insert(), rows)
    everything = [f"line {n}" for n in range(101)]
    for size in (1, 3, 4, 7, 100, 101, 500):
        assert _page_logs(engine, job.id, size, {}) == everything, size
    assert _page_logs(engine, job.id, 6, {"message": "LINE 1"}) == [
        m for m in everything if m.startswith("line 1")
    ]
    assert engine.logs(job.id, {}, after=(1_700_000_000_000, 10**18)).count() == 101


def test_find_after_a_job_returns_the_older_ones(engine: Engine) -> None:
    register(engine)
    ids = [engine.enqueue("NOOP", {}).id for _ in range(23)]
    seen: list[str] = []
    after: tuple[int, str] | None = None
    while True:
        page = list(engine.find({"_size": 5}, after=after))
        seen += [job.id for job in page]
        if len(page) < 5:
            break
        after = (to_ms(page[-1].created_at) or 0, page[-1].id)
    assert seen == list(reversed(ids))
