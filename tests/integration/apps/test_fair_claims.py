"""Claims by app, on both databases (the backend contract, ``store/backend.py``).

A claim names the apps it serves: it never takes another app's job, and it takes the apps
it serves in fair rounds (``sysjobs.store.leases.fair_rounds``) — one app's backlog of
1,000 jobs does not keep another app's 10 jobs, enqueued after it, waiting behind it. The
assertions are on claim order, never on time. Every transition (creation, claim, end,
recovery) is written in its job's app.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from sysjobs.jobs.ids import new_job_id
from sysjobs.store.backend import ClaimSpec, FinishSpec, JobBackend
from sysjobs.store.database import Database
from sysjobs.store.leases import fair_rounds
from sysjobs.store.rows import Row
from sysjobs.store.schema import job_events
from tests.integration.engine.helpers import ManualClock

LEASE_MS = 10_000
DONE = {"RUNNING": "FINISHED"}


@dataclass
class Store:
    db: Database
    backend: JobBackend
    clock: ManualClock

    def enqueue(self, app: str, count: int, *, low: bool = False) -> list[str]:
        """``count`` PENDING jobs of ``app`` in one insert, oldest first."""
        rows = []
        for _ in range(count):
            created = self.clock.now_ms()
            rows.append(_row(new_job_id(created), app, created, low=low))
            self.clock.advance(1)
        self.backend.insert_jobs(rows, reason="enqueued")
        return [r["id"] for r in rows]

    def claim(self, apps: Sequence[str], limit: int, owner: str = "w1") -> list[Row]:
        return self.backend.claim(spec(apps, limit, owner))


def spec(apps: Sequence[str], limit: int, owner: str = "w1") -> ClaimSpec:
    return ClaimSpec(owner, ("mix",), ("T",), limit, True, 0, LEASE_MS, apps=tuple(apps))


def _row(job_id: str, app: str, created: int, *, low: bool) -> dict[str, Any]:
    return {
        "id": job_id, "app": app, "type": "T", "label": "T", "status": "PENDING",
        "queue": "mix", "low_priority": low, "progress": 0, "has_errors": False,
        "created_ms": created, "run_by_id": None, "run_by_name": None, "parent_id": None,
        "root_id": None, "data": {}, "attempt": 0, "lost_count": 0, "max_retries": 0,
        "started_ms": None, "ended_ms": None, "owner": None, "lease_expires_ms": None,
        "force_at_ms": None,
    }  # fmt: skip


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    db = Database(db_url)
    db.migrate()
    clock = ManualClock()
    try:
        yield Store(db, db.backend(clock.now_ms), clock)
    finally:
        db.close()


def _apps(rows: list[Row]) -> list[str]:
    return [r["app"] for r in rows]


def test_a_claim_takes_only_jobs_of_the_apps_it_names(store: Store) -> None:
    store.enqueue("a", 3)
    b_jobs = store.enqueue("b", 2)
    assert store.claim(["c"], 10) == []
    taken = store.claim(["b"], 10)
    assert [r["id"] for r in taken] == b_jobs
    assert store.claim([], 10) == []  # no apps: nothing, never every app
    assert _apps(store.claim(["a", "b"], 10)) == ["a", "a", "a"]


def test_a_small_app_enqueued_after_a_backlog_of_1000_is_claimed_in_the_first_batches(
    store: Store,
) -> None:
    store.enqueue("a", 1000)
    b_jobs = store.enqueue("b", 10)
    batches = [store.claim(["a", "b"] if i % 2 == 0 else ["b", "a"], 4) for i in range(5)]
    # each batch of 4 slots gives each app an equal share: b's 10 jobs in 5 batches, oldest first
    assert [_apps(rows).count("b") for rows in batches] == [2, 2, 2, 2, 2]
    assert [r["id"] for rows in batches for r in rows if r["app"] == "b"] == b_jobs
    # then a has every slot again
    assert _apps(store.claim(["a", "b"], 4)) == ["a"] * 4


def test_one_slot_alternates_between_apps_when_the_claimer_rotates_them(store: Store) -> None:
    store.enqueue("a", 1000)
    store.enqueue("b", 3)
    order = [store.claim(["a", "b"] if i % 2 == 0 else ["b", "a"], 1)[0]["app"] for i in range(8)]
    assert order == ["a", "b", "a", "b", "a", "b", "a", "a"]


def test_slots_an_app_cannot_use_go_to_the_others_in_the_same_claim(store: Store) -> None:
    store.enqueue("a", 50)
    store.enqueue("b", 1)
    ten_apps = ["a", "b", *(f"x{i}" for i in range(8))]
    taken = store.claim(ten_apps, 12)
    assert sorted(_apps(taken)) == ["a"] * 11 + ["b"]


def test_ten_apps_share_a_batch_equally(store: Store) -> None:
    names = [f"app{i}" for i in range(10)]
    for name in names:
        store.enqueue(name, 30)
    taken = store.claim(names, 20)
    assert sorted(_apps(taken)) == sorted(names * 2)


def test_low_priority_jobs_wait_for_every_served_app_s_normal_jobs(store: Store) -> None:
    store.enqueue("a", 2, low=True)
    store.enqueue("b", 2)
    taken = store.claim(["a", "b"], 3)
    assert [(r["app"], r["low_priority"]) for r in taken] == [("b", False), ("b", False),
                                                             ("a", True)]  # fmt: skip


def test_the_end_and_claim_claims_fairly_too(store: Store) -> None:
    (first,) = store.enqueue("a", 1)
    store.enqueue("a", 100)
    store.enqueue("b", 5)
    (running,) = store.claim(["a"], 1)
    assert running["id"] == first
    end = FinishSpec(first, "w1", running["attempt"], targets=DONE, values={})
    ended, (claimed,) = store.backend.finish([end], [spec(["b", "a"], 4)])
    assert ended[0] is not None and ended[0]["status"] == "FINISHED"
    assert sorted(_apps(claimed)) == ["a", "a", "b", "b"]


def test_every_transition_is_written_in_its_job_s_app(store: Store) -> None:
    (a_job,) = store.enqueue("a", 1)
    (b_job,) = store.enqueue("b", 1)
    claimed = {r["id"]: r for r in store.claim(["a", "b"], 2)}
    end = FinishSpec(a_job, "w1", claimed[a_job]["attempt"], targets=DONE, values={})
    store.backend.finish([end])
    store.backend.recover(lambda row: ("PENDING", "lost", "INFO", "taken back", None), owner="w1")
    with store.db.read() as conn:
        events = conn.execute(job_events.select().order_by(job_events.c.id)).all()
    assert {(e.job_id, e.to_status, e.app) for e in events} == {
        (a_job, "PENDING", "a"), (a_job, "RUNNING", "a"), (a_job, "FINISHED", "a"),
        (b_job, "PENDING", "b"), (b_job, "RUNNING", "b"),
    }  # fmt: skip
    assert sum(1 for e in events if e.job_id == b_job and e.to_status == "PENDING") == 2


def test_recovery_can_be_kept_to_the_apps_a_reaper_serves(store: Store) -> None:
    store.enqueue("a", 1)
    store.enqueue("b", 1)
    store.claim(["a", "b"], 2)
    decide = lambda row: ("PENDING", "lost", "INFO", "taken back", None)  # noqa: E731
    later = store.clock.now_ms() + LEASE_MS + 1
    lost = store.backend.recover(decide, expired_before_ms=later, apps=("b",))
    assert _apps(lost) == ["b"]


@pytest.mark.parametrize(
    ("offered", "limit", "expected"),
    [
        ({"a": 100, "b": 10}, 4, {"a": 2, "b": 2}),
        ({"a": 100, "b": 1}, 4, {"a": 3, "b": 1}),
        ({"a": 100}, 32, {"a": 32}),
        ({"a": 0, "b": 0}, 4, {}),
        ({"a": 5, "b": 5, "c": 5}, 7, {"a": 3, "b": 2, "c": 2}),
        ({"a": 5, "b": 5, "c": 5}, 0, {}),
    ],
)
def test_fair_rounds_share_the_slots_left_equally(
    offered: dict[str, int], limit: int, expected: dict[str, int]
) -> None:
    left = dict(offered)
    calls: list[tuple[str, int]] = []

    def take(app: str, n: int) -> list[Row]:
        calls.append((app, n))
        got = min(n, left[app])
        left[app] -= got
        return [{"app": app}] * got

    rows = fair_rounds(list(offered), limit, take)
    counts = {app: _apps(rows).count(app) for app in offered if app in _apps(rows)}
    assert counts == expected
    assert len(calls) <= len(offered) * 3  # a handful of statements, not one per slot


def test_a_repeated_app_in_a_claim_counts_once(store: Store) -> None:
    store.enqueue("a", 10)
    store.enqueue("b", 10)
    taken = store.backend.claim(replace(spec(["a", "a", "a", "b"], 4)))
    assert sorted(_apps(taken)) == ["a", "a", "b", "b"]


def test_an_app_given_its_own_types_is_claimed_for_those_only(store: Store) -> None:
    store.enqueue("a", 3)
    store.enqueue("b", 3)
    held = replace(spec(["a", "b"], 10), app_types={"a": ()})
    assert _apps(store.backend.claim(held)) == ["b", "b", "b"]
    other = replace(spec(["a"], 10), app_types={"a": ("OTHER",)})
    assert store.backend.claim(other) == []


def test_an_unowned_job_of_an_upgraded_database_is_claimed_by_no_app(store: Store) -> None:
    created = store.clock.now_ms()
    store.backend.insert_jobs([_row(new_job_id(created), "", created, low=False)])
    assert store.claim(["default", "a"], 10) == []
