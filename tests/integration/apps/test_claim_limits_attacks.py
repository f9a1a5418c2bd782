"""Attacks on the concurrency limits: a job whose lease was lost, a limit lowered while jobs
run — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from tests.integration.apps.test_claim_limits import LEASE_MS, Claimers, claimers, spec

__all__ = ["claimers"]  # the fixture, shared with the limits' tests


def test_a_lost_lease_holds_its_place_until_recovered_then_counts_once(
    claimers: Claimers,
) -> None:
    """A worker died holding the queue's one place: nobody else runs a job of that queue
    until its lease is taken back (it may still be running), and then the retried job
    takes the place — never two at once."""
    claimers.enqueue("a", "reports", 3)
    capped = spec("w1", 5, queues=("reports",), queue_caps={"a": {"reports": 1}})
    (lost,) = claimers.backends[0].claim(capped)
    claimers.clock.advance(2 * LEASE_MS)  # its lease ran out; not recovered yet
    assert claimers.backends[1].claim(replace(capped, owner="w2")) == []
    recovered = claimers.backends[1].recover(
        lambda row: ("PENDING", "lease lost", "WARN", "lease lost", None),
        expired_before_ms=claimers.clock.now_ms(),
    )
    assert [r["id"] for r in recovered] == [lost["id"]]
    (again,) = claimers.backends[1].claim(replace(capped, owner="w2"))
    assert again["id"] == lost["id"]  # the retry keeps its turn: first
    assert claimers.backends[2].claim(replace(capped, owner="w3")) == []
    assert claimers.leased("a") == {"reports": 1}


def test_a_limit_lowered_while_jobs_run_lets_none_start_until_they_are_below_it(
    claimers: Claimers,
) -> None:
    claimers.enqueue("a", "reports", 10)
    wide = spec("w1", 10, queues=("reports",), queue_caps={"a": {"reports": 4}})
    running = claimers.backends[0].claim(wide)
    assert len(running) == 4
    narrow = replace(wide, owner="w2", queue_caps={"a": {"reports": 2}})
    assert claimers.backends[1].claim(narrow) == []
    claimers.finish(running[:2])
    assert claimers.backends[1].claim(narrow) == []  # still 2 running: at the new limit
    claimers.finish(running[2:3])
    assert len(claimers.backends[1].claim(narrow)) == 1


def test_a_pending_job_no_claimer_serves_does_not_hold_back_the_apps_other_queues(
    claimers: Claimers,
) -> None:
    claimers.enqueue("a", "orphan", 3)  # the lowest turns: nobody serves 'orphan'
    claimers.enqueue("a", "mix", 2)
    claimers.enqueue("b", "mix", 2)
    rows = claimers.backends[0].claim(spec("w", 10, apps=("a", "b")))
    assert sorted((r["app"], r["queue"]) for r in rows) == [("a", "mix")] * 2 + [("b", "mix")] * 2
