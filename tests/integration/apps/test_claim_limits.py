"""Concurrency limits held by the claim across every claimer, on both databases.

A queue's ``maxConcurrency`` and an app's cap (``ClaimSpec.queue_caps`` / ``app_caps``,
from the manifest's ``queues:`` and ``jobs: maxConcurrency``) bound the app's leased jobs
however many claimers run at once: each claimer here has its own ``Database`` (its own
connections, as a worker process has), they claim together from a barrier, round after
round, and the leased count is read from the database after every round — it never passes
the limit, and with a backlog it reaches it. The assertions are on counts, never on time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.jobs.ids import new_job_id
from sysjobs.store.backend import ClaimSpec, FinishSpec, JobBackend
from sysjobs.store.database import Database
from sysjobs.store.rows import Row
from sysjobs.store.schema import jobs
from tests.integration.engine.helpers import ManualClock

LEASE_MS = 60_000
DONE = {"RUNNING": "FINISHED"}
CLAIMERS = 6
ROUNDS = 8


def _row(app: str, queue: str, created: int) -> dict[str, Any]:
    return {
        "id": new_job_id(created), "app": app, "type": "T", "label": "T", "status": "PENDING",
        "queue": queue, "low_priority": False, "progress": 0, "has_errors": False,
        "created_ms": created, "run_by_id": None, "run_by_name": None, "parent_id": None,
        "root_id": None, "data": {}, "attempt": 0, "lost_count": 0, "max_retries": 0,
        "started_ms": None, "ended_ms": None, "owner": None, "lease_expires_ms": None,
        "force_at_ms": None,
    }  # fmt: skip


class Claimers:
    """``CLAIMERS`` backends on one database, each with its own connections."""

    def __init__(self, url: str) -> None:
        self.clock = ManualClock()
        first = Database(url)
        first.migrate()
        self.dbs = [first] + [Database(url) for _ in range(CLAIMERS - 1)]
        self.backends: list[JobBackend] = [db.backend(self.clock.now_ms) for db in self.dbs]

    def enqueue(self, app: str, queue: str, count: int) -> None:
        rows = []
        for _ in range(count):
            rows.append(_row(app, queue, self.clock.now_ms()))
            self.clock.advance(1)
        self.backends[0].insert_jobs(rows, reason="enqueued")

    def claim_together(self, specs: Sequence[ClaimSpec]) -> list[list[Row]]:
        """Each backend claims its spec at once (a barrier starts them); their rows."""
        barrier = threading.Barrier(len(specs))
        found: list[list[Row]] = [[] for _ in specs]
        errors: list[BaseException] = []

        def claim(i: int) -> None:
            try:
                barrier.wait(timeout=30)
                found[i] = self.backends[i].claim(specs[i])
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(specs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        return found

    def leased(self, app: str) -> dict[str, int]:
        """The app's leased jobs per queue, as the database has them now."""
        query = (
            sa.select(jobs.c.queue, sa.func.count())
            .where(jobs.c.app == app, jobs.c.owner.is_not(None)).group_by(jobs.c.queue)
        )  # fmt: skip
        with self.dbs[0].read() as conn:
            return {str(q): int(n) for q, n in conn.execute(query)}

    def finish(self, rows: Sequence[Row]) -> None:
        ends = [FinishSpec(r["id"], r["owner"], r["attempt"], DONE, {}) for r in rows]
        ended, _ = self.backends[0].finish(ends)
        assert all(e is not None for e in ended)

    def close(self) -> None:
        for db in self.dbs:
            db.close()


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine, pool and Host they open; taking
    a new one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def claimers(db_url: str) -> Iterator[Claimers]:
    opened = Claimers(db_url)
    yield opened
    opened.close()


def spec(
    owner: str, limit: int, *, apps: Sequence[str] = ("a",), queues: Sequence[str] = ("mix",),
    queue_caps: Mapping[str, Mapping[str, int]] | None = None,
    app_caps: Mapping[str, int] | None = None,
) -> ClaimSpec:  # fmt: skip
    return ClaimSpec(owner, tuple(queues), ("T",), limit, True, 0, LEASE_MS, apps=tuple(apps),
                     queue_caps=queue_caps or {}, app_caps=app_caps or {})  # fmt: skip


def _rounds(claimers: Claimers, specs: Sequence[ClaimSpec], app: str) -> list[dict[str, int]]:
    """``ROUNDS`` rounds of concurrent claims; after each, the leased counts, then every
    leased job ends (its place is free for the next round)."""
    seen = []
    for _ in range(ROUNDS):
        rows = [r for found in claimers.claim_together(specs) for r in found]
        seen.append(claimers.leased(app))
        assert len(rows) == sum(seen[-1].values())  # what was claimed is what is leased
        claimers.finish(rows)
    return seen


def test_a_queues_limit_holds_across_concurrent_claimers_round_after_round(
    claimers: Claimers,
) -> None:
    claimers.enqueue("a", "reports", 200)
    specs = [spec(f"w{i}", 3, queues=("mix", "reports"), queue_caps={"a": {"reports": 2}})
             for i in range(CLAIMERS)]  # fmt: skip
    assert _rounds(claimers, specs, "a") == [{"reports": 2}] * ROUNDS


def test_an_apps_cap_holds_across_its_queues_and_concurrent_claimers(
    claimers: Claimers,
) -> None:
    for queue in ("mix", "light", "reports"):
        claimers.enqueue("a", queue, 100)
    specs = [spec(f"w{i}", 4, queues=("mix", "light", "reports"), app_caps={"a": 5},
                  queue_caps={"a": {"reports": 1}}) for i in range(CLAIMERS)]  # fmt: skip
    counts = _rounds(claimers, specs, "a")
    assert [sum(c.values()) for c in counts] == [5] * ROUNDS
    assert all(c.get("reports", 0) <= 1 for c in counts)


def test_claimers_serving_different_apps_hold_each_apps_limit(claimers: Claimers) -> None:
    claimers.enqueue("a", "reports", 100)
    claimers.enqueue("b", "reports", 100)
    caps = {"a": {"reports": 2}, "b": {"reports": 3}}
    specs = [spec(f"w{i}", 2, apps=("a", "b") if i % 2 else ("b", "a"), queues=("reports",),
                  queue_caps=caps) for i in range(CLAIMERS)]  # fmt: skip
    for _ in range(3):
        rows = [r for found in claimers.claim_together(specs) for r in found]
        assert (claimers.leased("a"), claimers.leased("b")) == ({"reports": 2}, {"reports": 3})
        claimers.finish(rows)


def test_a_capped_app_leaves_the_slots_of_a_shared_pool_to_the_other_apps(
    claimers: Claimers,
) -> None:
    claimers.enqueue("a", "mix", 100)
    claimers.enqueue("b", "mix", 10)
    rows = claimers.backends[0].claim(spec("w", 8, apps=("a", "b"), app_caps={"a": 2}))
    assert sorted(r["app"] for r in rows) == ["a"] * 2 + ["b"] * 6
    # and the cap counts what already runs: a second claim takes none of a's
    more = claimers.backends[1].claim(spec("w2", 8, apps=("a", "b"), app_caps={"a": 2}))
    assert sorted(r["app"] for r in more) == ["b"] * 4


def test_a_limited_queue_and_unlimited_ones_share_one_claim(claimers: Claimers) -> None:
    claimers.enqueue("a", "reports", 10)
    claimers.enqueue("a", "mix", 10)
    rows = claimers.backends[0].claim(
        spec("w", 5, queues=("mix", "reports"), queue_caps={"a": {"reports": 1}})
    )
    assert sorted(r["queue"] for r in rows) == ["mix"] * 4 + ["reports"]


def test_a_limit_counts_jobs_leased_by_earlier_claims_and_frees_places_as_they_end(
    claimers: Claimers,
) -> None:
    claimers.enqueue("a", "reports", 10)
    limited = spec("w", 10, queues=("reports",), queue_caps={"a": {"reports": 3}})
    first = claimers.backends[0].claim(limited)
    assert len(first) == 3
    assert claimers.backends[1].claim(replace(limited, owner="w2")) == []
    claimers.finish(first[:2])
    assert len(claimers.backends[1].claim(replace(limited, owner="w2"))) == 2


def test_low_priority_jobs_count_and_are_counted_under_the_same_limit(
    claimers: Claimers,
) -> None:
    rows = []
    for i in range(6):
        row = _row("a", "reports", claimers.clock.now_ms())
        rows.append({**row, "low_priority": i % 2 == 0})
        claimers.clock.advance(1)
    claimers.backends[0].insert_jobs(rows, reason="enqueued")
    taken = claimers.backends[0].claim(
        spec("w", 6, queues=("reports",), queue_caps={"a": {"reports": 4}})
    )
    assert len(taken) == 4 and claimers.leased("a") == {"reports": 4}


def test_a_claim_without_limits_takes_every_free_slot(claimers: Claimers) -> None:
    claimers.enqueue("a", "mix", 20)
    assert len(claimers.backends[0].claim(spec("w", 16))) == 16


def test_an_end_and_claim_holds_the_limit_too(claimers: Claimers) -> None:
    """A worker's group commit (ends, then its slots' next claims, in one call) takes no
    more than the limit leaves; the jobs it ends still count until it commits."""
    claimers.enqueue("a", "reports", 10)
    limited = spec("w", 2, queues=("reports",), queue_caps={"a": {"reports": 2}})
    first = claimers.backends[0].claim(limited)
    ends = [FinishSpec(r["id"], r["owner"], r["attempt"], DONE, {}) for r in first]
    ended, claimed = claimers.backends[1].finish(ends, [limited, limited])
    assert all(e is not None for e in ended)
    assert [len(c) for c in claimed] == [0, 0]
    assert len(claimers.backends[1].claim(limited)) == 2
