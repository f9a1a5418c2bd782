"""A job leased under a worker's owner id that the worker is not running — its claim
committed but the reply was lost (a connection cut right after COMMIT, as in the
PostgreSQL restart scenario) — must not be kept alive by that worker's heartbeat while the
worker stays busy with other jobs: its lease expires, the reaper takes it back, it runs."""

from __future__ import annotations

import time

from sysjobs.worker.pool import WorkerPool
from tests.chaos.audit import TALLY, audit, fault
from tests.chaos.conftest import chaos_engine


def test_a_lease_the_worker_does_not_know_about_is_not_renewed_forever(db_url: str) -> None:
    with chaos_engine(db_url, lease_s=1.0) as engine:
        pool = WorkerPool(engine, concurrency=2, lease_s=1.0).start()
        try:
            # The keeper is of another type than the orphan: a pool checks the holds again
            # after its claim and gives back a job held by then, so a hold on the keeper's
            # own type could send it back to waiting before it starts (and the claim below
            # would take it instead of the orphan).
            keeper = engine.enqueue("CHAOS_ONCE", {"n": 1, "lines": 0, "steps": 100, "work_s": 8.0})
            engine.wait(keeper.id, ["RUNNING"], 30)  # the pool is busy: its heartbeat beats
            # Hold the orphan's type so the pool's free slot cannot take it first; the claim
            # below names its types, so the hold does not apply to it.
            holding = {"on": True}
            engine.registry.hold(lambda: {"CHAOS_UNIT"} if holding["on"] else set())
            orphan = engine.enqueue("CHAOS_UNIT", {"n": 2, "lines": 1})
            # The claim the pool never heard back from: same owner, not in its running set.
            (claimed,) = engine.leases.claim(pool.owner, limit=1, lease_s=1.0,
                                             types=["CHAOS_UNIT"])  # fmt: skip
            holding["on"] = False
            assert claimed.job.id == orphan.id
            fault("claim reply lost")
            started = time.monotonic()
            done = engine.wait(orphan.id, ["FINISHED"], 6)  # lease 1 s + a reaper pass
            TALLY.recovery_s.append(time.monotonic() - started)
            assert not done.has_errors and done.attempt == 2
            engine.cancel(keeper.id)
            engine.wait(keeper.id, ["CANCELED"], 30)
        finally:
            pool.stop(grace_s=2.0)
        audit(db_url, [orphan.id, keeper.id], lines_per_run=1).assert_clean()
