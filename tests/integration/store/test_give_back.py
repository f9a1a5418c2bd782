"""``JobBackend.give_back`` on both databases: a claim undone, exactly as if it never was.

A worker that learns after its claim that a job may not run now (its app was stopped
between reading what it may take and the claim) gives the job back. The job returns to
waiting as it was before the claim — attempts not counted, no start left, no owner or
lease, its turn kept, the claim's event gone — and the give-back is fenced by the lease
(owner, attempt), so it cannot undo anything that happened after: the reaper's recovery,
another worker's claim, the same worker's next claim. Concurrency limits count it no more.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest

from sysjobs.store.backend import ClaimSpec, LeaseKey, Recovery
from sysjobs.store.database import Database
from sysjobs.store.jobstore import JobStore
from sysjobs.store.rows import Row
from tests.integration.engine.helpers import ManualClock
from tests.integration.store.test_backend_contract import LEASE_MS, Setup, end, spec

LOST: Recovery = ("PENDING", "lost", "INFO", "taken back", None)


@pytest.fixture
def s(db_url: str) -> Iterator[Setup]:
    db = Database(db_url)
    hints: list[str] = []
    db.local_sink = hints.extend
    clock = ManualClock()
    try:
        yield Setup(db, db.backend(clock.now_ms), clock, hints)
    finally:
        db.close()


def _key(row: Row) -> LeaseKey:
    return (row["id"], row["owner"], row["attempt"])


def _events(s: Setup, job_id: str) -> list[tuple[Any, ...]]:
    return [(e["from_status"], e["to_status"], e["attempt"], e["reason"])
            for e in JobStore(s.db).events(job_id, apps=None)]  # fmt: skip


def test_a_job_given_back_waits_again_exactly_as_before_its_claim(s: Setup) -> None:
    first, second = s.enqueue(), s.enqueue()
    before = s.job(first)
    (held,) = s.claim("w1", 1)
    s.clock.advance(50)
    s.hints.clear()
    assert s.backend.give_back([_key(held)]) == [{"id": first, "status": "PENDING"}]
    assert s.job(first) == before  # attempt, start, owner, lease, turn: all as they were
    assert _events(s, first) == [(None, "PENDING", 0, "enqueued")]  # no claim left to hear
    assert {"work", f"job:{first}"} <= set(s.hints)
    again = s.claim("w2", 2)  # still first in line, and its first attempt
    assert [(r["id"], r["attempt"]) for r in again] == [(first, 1), (second, 1)]
    assert again[0]["started_ms"] == s.clock.now_ms()


def test_a_retried_job_given_back_keeps_its_first_start_and_its_attempts(s: Setup) -> None:
    job = s.enqueue()
    (first,) = s.claim("w1", 1)
    s.backend.recover(lambda row: LOST, owner="w1")
    s.clock.advance(1_000)
    (second,) = s.claim("w2", 1)
    assert second["attempt"] == 2
    assert s.backend.give_back([_key(second)]) == [{"id": job, "status": "PENDING"}]
    row = s.job(job)
    assert (row["status"], row["attempt"], row["lost_count"], row["owner"]) == ("PENDING", 1, 1, None)
    assert row["started_ms"] == first["started_ms"]  # the start of the attempt that ran
    assert [e[:3] for e in _events(s, job)] == [
        (None, "PENDING", 0), ("PENDING", "RUNNING", 1), ("RUNNING", "PENDING", 1),
    ]


def test_a_give_back_is_fenced_by_the_lease_it_names(s: Setup) -> None:
    job = s.enqueue()
    (stale,) = s.claim("w1", 1)
    s.backend.recover(lambda row: LOST, owner="w1")
    (mine_again,) = s.claim("w1", 1)  # the same worker, its next attempt
    assert s.backend.give_back([_key(stale)]) == []
    assert s.backend.give_back([(job, "w2", mine_again["attempt"])]) == []
    assert s.backend.give_back([(job, "w1", 99), ("0" * 24, "w1", 1)]) == []
    row = s.job(job)
    assert (row["status"], row["owner"], row["attempt"]) == ("RUNNING", "w1", 2)
    s.backend.recover(lambda row: LOST, owner="w1")
    (theirs,) = s.claim("w2", 1)  # taken over by another worker
    assert s.backend.give_back([_key(mine_again)]) == []
    assert s.job(job)["owner"] == "w2" and s.backend.lease_status(*_key(theirs)) is not None
    assert s.backend.give_back([]) == []


def test_after_the_reaper_took_the_lease_back_a_give_back_changes_nothing(s: Setup) -> None:
    job = s.enqueue()
    (held,) = s.claim("w1", 1)
    s.clock.advance(LEASE_MS + 1)
    assert [r["id"] for r in s.backend.recover(lambda row: LOST,
                                               expired_before_ms=s.clock.now_ms())] == [job]
    recovered = s.job(job)
    assert s.backend.give_back([_key(held)]) == []
    assert s.job(job) == recovered and recovered["lost_count"] == 1


def test_after_a_give_back_the_reaper_finds_no_lease_to_take(s: Setup) -> None:
    job = s.enqueue()
    (held,) = s.claim("w1", 1)
    s.clock.advance(LEASE_MS + 1)  # expired, not yet reaped
    assert s.backend.give_back([_key(held)]) == [{"id": job, "status": "PENDING"}]
    assert s.backend.recover(lambda row: LOST, expired_before_ms=s.clock.now_ms()) == []
    row = s.job(job)
    assert (row["lost_count"], row["attempt"], row["status"]) == (0, 0, "PENDING")


def _race(give: Callable[[], list[Row]], reap: Callable[[], list[Row]]) -> tuple[int, int]:
    """Run ``give`` and ``reap`` in two threads released at once; how many jobs each got."""
    start = threading.Barrier(2)
    got: dict[str, int] = {}

    def run(name: str, call: Callable[[], list[Row]]) -> None:
        start.wait()
        got[name] = len(call())

    threads = [threading.Thread(target=run, args=("give", give)),
               threading.Thread(target=run, args=("reap", reap))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got["give"], got["reap"]


def test_a_give_back_racing_the_reaper_ends_one_way_or_the_other(
    s: Setup, db_url: str
) -> None:
    other = Database(db_url)  # the reaper: another connection, as another worker's
    reaper = other.backend(s.clock.now_ms)
    try:
        for _ in range(10):
            job = s.enqueue()
            (held,) = s.claim("w1", 1)
            s.clock.advance(LEASE_MS + 1)
            expired = s.clock.now_ms()
            given, reaped = _race(
                partial(s.backend.give_back, [_key(held)]),
                partial(reaper.recover, lambda row: LOST, expired_before_ms=expired),
            )
            assert given + reaped == 1
            row = s.job(job)
            assert (row["status"], row["owner"], row["lease_expires_ms"]) == ("PENDING", None, None)
            if given:
                assert (row["attempt"], row["lost_count"], row["started_ms"]) == (0, 0, None)
            else:
                assert (row["attempt"], row["lost_count"]) == (1, 1)
            (done,) = s.claim("w9", 1)  # finished: out of the way of the next round
            s.backend.finish([end(done)])
    finally:
        other.close()


def test_giving_back_part_of_a_claim_leaves_the_rest_running(s: Setup) -> None:
    made = [s.enqueue() for _ in range(4)]
    held = s.claim("w1", 4)
    kept = {r["id"]: s.job(r["id"]) for r in held[0::2]}
    given = s.backend.give_back([_key(r) for r in held[1::2]])
    assert sorted(r["id"] for r in given) == sorted(made[1::2])
    assert {i: s.job(i) for i in kept} == kept  # untouched: owner, attempt, lease
    assert [(s.job(i)["status"], s.job(i)["attempt"]) for i in made[1::2]] == [("PENDING", 0)] * 2
    assert [r["id"] for r in s.claim("w2", 5)] == made[1::2]


def test_a_stop_or_cancel_asked_before_the_give_back_lands_as_for_a_waiting_job(
    s: Setup,
) -> None:
    stopped, canceled = s.enqueue(), s.enqueue()
    held = s.claim("w1", 2)
    store = JobStore(s.db, now=s.clock.now_ms)
    store.transition(stopped, apps=None, paths={"RUNNING": ["STOPPING"]}, reason="stop")
    store.transition(canceled, apps=None, paths={"RUNNING": ["CANCELING"]}, reason="cancel")
    s.clock.advance(10)
    given = s.backend.give_back([_key(r) for r in held])
    assert sorted((r["id"], r["status"]) for r in given) == sorted(
        [(stopped, "STOPPED"), (canceled, "CANCELED")]
    )
    for job, status in ((stopped, "STOPPED"), (canceled, "CANCELED")):
        row = s.job(job)
        assert (row["status"], row["attempt"], row["owner"], row["started_ms"]) == (
            status, 0, None, None,
        )
        assert row["ended_ms"] == s.clock.now_ms()
        assert _events(s, job)[-1][1:] == (status, 1, "given back")


def test_a_job_given_back_no_longer_counts_against_its_apps_limits(s: Setup) -> None:
    job = s.enqueue()
    s.enqueue()
    capped = ClaimSpec("w1", ("mix",), ("T",), 5, True, 0, LEASE_MS, apps=("contract",),
                       app_caps={"contract": 1}, queue_caps={"contract": {"mix": 1}})  # fmt: skip
    (held,) = s.backend.claim(capped)
    assert s.backend.claim(capped) == []  # at the limit
    s.backend.give_back([_key(held)])
    assert [r["id"] for r in s.backend.claim(capped)] == [job]  # its place, its slot
    assert s.backend.claim(spec("w1", 5)) != []  # (the other job, without limits)
