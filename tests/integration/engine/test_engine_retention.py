"""Retention: ended jobs go with their logs, results and events; live jobs stay."""

from __future__ import annotations

import pytest

from sysjobs.jobs import Engine, Outcome, new_owner
from tests.integration.engine.helpers import ManualClock
from tests.integration.engine.jobtypes import register


@pytest.fixture
def engine(clocked_engine: Engine) -> Engine:
    """An engine on a clock the test moves: "older than the cut" is a step of the clock,
    not a pause long enough for the wall clock to tick."""
    return clocked_engine


def test_prune_removes_ended_jobs_past_retention_and_keeps_the_rest(
    engine: Engine, clock: ManualClock
) -> None:
    register(engine)
    finished, pending, canceled = (engine.enqueue("NOOP", {}) for _ in range(3))
    (claimed,) = engine.leases.claim(new_owner(), limit=1)
    engine.log_info(finished.id, "will go")
    engine.leases.finish(claimed.lease, Outcome.COMPLETED)
    engine.cancel(canceled.id)
    clock.advance(86_400_000)
    assert engine.prune(jobs_days=1).jobs == 0  # a day old exactly is not past a day
    clock.advance(1)
    counts = engine.prune(jobs_days=1)
    assert counts.jobs == 2
    assert engine.get(finished.id) is None and engine.get(canceled.id) is None
    assert engine.require(pending.id).status == "PENDING"


def test_prune_of_logs_drops_old_lines_only(engine: Engine, clock: ManualClock) -> None:
    register(engine)
    job = engine.enqueue("NOOP", {})
    engine.log_info(job.id, "old")
    clock.advance(10)
    assert engine.prune(jobs_days=1, logs_days=0).logs == 1
    engine.log_info(job.id, "new")
    assert [e.message for e in engine.logs(job.id, {})] == ["new"]
