"""Group commit of record jobs: a chunk's log lines, checkpoint and results are written in
one transaction under the lease (``sysjobs/app/jobtypes/loop.py``).

The decision these tests pin down: a chunk's lines are written with its checkpoint, all or
nothing. A worker that loses its lease mid-chunk (it crashed, or was paused and reaped)
has that chunk refused whole; the next attempt starts after the last committed checkpoint
— never re-running a record before it — and writes the chunk's lines then, exactly once.
Each test drives the loop itself on a claimed DELETE_RECORDS job (idempotent: a lost one
goes back to PENDING), with a per-record step that records what ran and logs a line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sysjobs.app.jobtypes import loop
from sysjobs.app.records import Record
from sysjobs.jobs import JobContext, LeaseLost, new_owner
from tests.integration.app.conftest import AppEnv, make_env

RECORDS = 250  # three chunks of loop.CHUNK (100)


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): each test opens
    its app (``quiet``, no workers: the test is the worker) and closes it, so it needs only
    an empty migrated database; taking a new one from the pool cost more than several of
    these tests."""
    return reused_db_url


@pytest.fixture
def quiet(app_url: str) -> Iterator[AppEnv]:
    """The app on a fresh database, no worker running: the test is the worker."""
    e = make_env(app_url, workers=False)
    rows = [{"name": f"c{i:03d}"} for i in range(RECORDS - e.app.records.count("companies", {}))]
    e.app.records.insert_many("companies", rows, announce=False)
    yield e
    e.close()


def _claim(env: AppEnv) -> JobContext:
    (claimed,) = env.engine.leases.claim(new_owner(), limit=1)
    return JobContext(env.engine, claimed.lease, claimed.job, checkpoint=claimed.checkpoint)


def _step(ran: list[str], ctx: JobContext,
          before: Callable[[int], None] = lambda _n: None) -> loop.PerRecord:  # fmt: skip
    def per_record(record: Record) -> dict[str, Any]:
        assert record.id is not None
        before(len(ran))
        ran.append(record.id)
        ctx.log_info(f"did {record.id}")
        return {"status": "ok"}

    return per_record


def _lines(env: AppEnv, job_id: str) -> list[str]:
    return [entry.message for entry in env.engine.logs(job_id, {}) if entry.message.startswith("did ")]


def _ids(env: AppEnv) -> list[str]:
    records = env.app.records.scan("companies", {}, None, RECORDS + 10)
    return [r.id for r in records if r.id is not None]


def test_a_chunks_lines_are_written_with_its_checkpoint_not_one_by_one(quiet: AppEnv) -> None:
    job_id = quiet.app.delete_records("companies", {})
    ctx = _claim(quiet)
    ran: list[str] = []
    seen_mid_chunk: list[int] = []

    def look(n: int) -> None:
        if n == 150:  # halfway through the second chunk: only the first chunk is stored
            seen_mid_chunk.append(len(_lines(quiet, job_id)))
            checkpoint = quiet.engine.store.checkpoint(job_id) or {}
            seen_mid_chunk.append(int(checkpoint.get("done", -1)))

    loop.run_record_loop(ctx, quiet.app.records, "companies", {}, _step(ran, ctx, look))
    assert seen_mid_chunk == [100, 100]
    assert _lines(quiet, job_id) == [f"did {i}" for i in _ids(quiet)]
    assert len(ran) == RECORDS


def test_a_crash_mid_chunk_reruns_only_that_chunk_and_its_lines_are_written_once(
    quiet: AppEnv,
) -> None:
    job_id = quiet.app.delete_records("companies", {})
    first = _claim(quiet)
    ran_first: list[str] = []

    def crash(n: int) -> None:
        if n == 150:  # the worker is declared dead mid-chunk (its lease is taken back)
            quiet.engine.leases.release_owner(first.lease.owner, "its process was killed")

    with pytest.raises(LeaseLost):
        loop.run_record_loop(first, quiet.app.records, "companies", {},
                             _step(ran_first, first, crash))  # fmt: skip
    # It goes on at most to the end of its chunk (a stop check may notice the loss sooner);
    # then its commit is refused, so only the first chunk's lines are stored.
    assert 150 < len(ran_first) <= 200
    assert len(_lines(quiet, job_id)) == 100

    second = _claim(quiet)
    assert second.job.id == job_id and second.lease.attempt == first.lease.attempt + 1
    ran_second: list[str] = []
    loop.run_record_loop(second, quiet.app.records, "companies", {}, _step(ran_second, second))
    ids = _ids(quiet)
    assert ran_second == ids[100:]  # nothing before the checkpoint runs again
    assert _lines(quiet, job_id) == [f"did {i}" for i in ids]  # every line exactly once
    results = (quiet.engine.require(job_id).results or {})["results"]
    assert list(results) == ids  # the first attempt's results carried over, none twice


def test_a_stale_owners_buffered_chunk_is_refused_whole(quiet: AppEnv) -> None:
    job_id = quiet.app.delete_records("companies", {})
    stale = _claim(quiet)
    with stale.held_logs():
        stale.log_info("did held line")
        stale.log_error("held error")
        quiet.engine.leases.release_owner(stale.lease.owner, "its process was killed")
        newer = _claim(quiet)
        with pytest.raises(LeaseLost):
            stale.commit_chunk({"done": 999}, {"results": {}})
    assert _lines(quiet, job_id) == []
    assert quiet.engine.store.checkpoint(job_id) is None
    assert newer.lease.attempt == stale.lease.attempt + 1
    assert not quiet.engine.require(job_id).has_errors


def test_an_error_line_held_in_a_chunk_sets_has_errors_when_it_is_committed(
    quiet: AppEnv,
) -> None:
    job_id = quiet.app.delete_records("companies", {})
    ctx = _claim(quiet)
    with ctx.held_logs():
        ctx.log_error("Record x: failed")
        assert not quiet.engine.require(job_id).has_errors
        ctx.commit_chunk({"done": 1}, {"results": {}})
        assert quiet.engine.require(job_id).has_errors
    assert quiet.engine.store.checkpoint(job_id) == {"done": 1}


def test_held_lines_past_the_cap_are_written_early_and_none_is_lost(
    quiet: AppEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sysjobs.jobs import context

    monkeypatch.setattr(context, "HELD_LINES", 7)
    job_id = quiet.app.delete_records("companies", {})
    ctx = _claim(quiet)
    with ctx.held_logs():
        for i in range(10):
            ctx.log_info(f"did {i}")
        assert len(_lines(quiet, job_id)) == 7  # written early, without a checkpoint
        assert quiet.engine.store.checkpoint(job_id) is None
    assert _lines(quiet, job_id) == [f"did {i}" for i in range(10)]  # the rest at the end


def test_hostile_lines_held_in_a_chunk_are_stored_as_a_direct_write_stores_them(
    quiet: AppEnv,
) -> None:
    job_id = quiet.app.delete_records("companies", {})
    ctx = _claim(quiet)
    hostile = ["lone \ud800 surrogate", "nul \x00 byte", "x" * 1_000_000, "'); DROP TABLE jobs;--"]
    with ctx.held_logs():
        for message in hostile:
            ctx.log_info(message, {"n": float("1e308")})
    direct = quiet.app.delete_records("companies", {"name": '"none"'})
    other = _claim(quiet)
    assert other.job.id == direct
    for message in hostile:
        other.log_info(message, {"n": float("1e308")})
    held = [e.message for e in quiet.engine.logs(job_id, {})]
    assert held == [e.message for e in quiet.engine.logs(direct, {})]
    assert held[0] == "lone \\ud800 surrogate" and len(held) == len(hostile)
