"""executeInJob's items are processed exactly once across stop/resume and a worker crash.

The EXECUTE_IN_JOB handler is driven here as a worker drives it — claim, run with the job's
script runner, finish — on SQLite and PostgreSQL, with an injected clock; a runner wrapper
stops or "crashes" the job right after a chosen chunk ran (``docs/jobs-api.md``: a chunk
that ran to its end but has no checkpoint — the worker died in between — runs again).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.host import Host
from sysjobs.jobs import EngineSettings, JobContext, LeaseLost, Outcome, ScriptOutcome, new_owner
from sysjobs.worker.scripts import bind_to_job
from tests.integration.engine.helpers import ManualClock

ITEMS = "[1, 2, 3, 4, 5, 6, 7, 8]"
CALLBACK = "function (item) { sys.logs.info('item ' + item); }"


class Crash(Exception):
    """The worker process died (nothing after it runs in that process)."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def host(db_url: str, clock: ManualClock) -> Iterator[Host]:
    with Host(db_url, pool_size=0, settings=EngineSettings(clock=clock, lease_s=30)) as opened:
        yield opened


class AfterChunk:
    """The job's runner, calling ``then(ctx)`` once chunk number ``n`` (1-based) has run."""

    def __init__(self, ctx: JobContext, n: int, then: Any) -> None:
        self.inner, self.ctx, self.n, self.then, self.runs = ctx.script_runner, ctx, n, then, 0

    def run(self, source: str, **kw: Any) -> ScriptOutcome:
        assert self.inner is not None
        outcome = self.inner.run(source, **kw)
        self.runs += 1
        if self.runs == self.n:
            self.then(self.ctx)
        return outcome


def claim_and_run(host: Host, wrap: Any = None) -> tuple[JobContext, Outcome | None]:
    """Claim the job and run its handler as a worker does; how it returned."""
    (claimed,) = host.engine.leases.claim(new_owner(), limit=1)
    ctx = JobContext(host.engine, claimed.lease, claimed.job, checkpoint=claimed.checkpoint,
                     script_runner=host.runner)  # fmt: skip
    ctx.script_runner = bind_to_job(host.runner, ctx)
    if wrap is not None:
        ctx.script_runner = wrap(ctx)
    job_type = host.engine.registry.require("EXECUTE_IN_JOB")
    try:
        job_type.handler(ctx, job_type.data_model.model_validate(claimed.job.data))
    except (Crash, LeaseLost):
        return ctx, None
    outcome = Outcome.STOPPED if ctx.state.acknowledged else Outcome.COMPLETED
    finished = host.engine.leases.finish(ctx.lease, outcome, results=ctx.state.results,
                                         progress=ctx.state.progress)  # fmt: skip
    assert finished is not None
    return ctx, outcome


def items_logged(host: Host) -> list[str]:
    return [e.message for e in host.engine.app_logs({})]


def start(host: Host, step: int) -> str:
    result = host.run(f"sys.jobs.executeInJob({ITEMS}, 'default', {CALLBACK}, {step})")
    assert result.ok, result.error
    return str(result.value)


def test_a_stopped_job_resumes_after_the_last_chunk_each_item_once(host: Host) -> None:
    job_id = start(host, 2)

    def stop(ctx: JobContext) -> None:
        host.engine.stop(job_id)
        ctx.state.stop_requested.set()  # what the heartbeat delivers

    _, outcome = claim_and_run(host, lambda ctx: AfterChunk(ctx, 2, stop))
    assert outcome is Outcome.STOPPED
    stopped = host.engine.require(job_id)
    assert str(stopped.status) == "STOPPED" and stopped.progress == 50  # 4 of 8 items
    assert items_logged(host) == [f"item {n}" for n in range(1, 5)]
    host.engine.resume(job_id)
    claim_and_run(host)
    finished = host.engine.require(job_id)
    assert str(finished.status) == "FINISHED" and finished.progress == 100
    assert items_logged(host) == [f"item {n}" for n in range(1, 9)]
    assert finished.results == {"itemsCount": 8, "itemsProcessed": 8, "itemsFailed": 0,
                                "chunks": 4}  # fmt: skip


def test_after_a_crash_completed_chunks_never_run_again_the_chunk_in_flight_does(
    host: Host, clock: ManualClock
) -> None:
    job_id = start(host, 3)

    def crash(ctx: JobContext) -> None:
        raise Crash  # chunk 2 (items 4-6) ran; its checkpoint was never written

    claim_and_run(host, lambda ctx: AfterChunk(ctx, 2, crash))
    clock.advance(31_000)  # the dead worker's lease runs out
    assert host.engine.reap() == 1
    assert str(host.engine.require(job_id).status) == "PENDING"  # retried: it is idempotent
    claim_and_run(host)
    done = host.engine.require(job_id)
    assert str(done.status) == "FINISHED"
    logged = items_logged(host)
    assert [logged.count(f"item {n}") for n in range(1, 9)] == [1, 1, 1, 2, 2, 2, 1, 1]
    assert done.results == {"itemsCount": 8, "itemsProcessed": 8, "itemsFailed": 0,
                            "chunks": 3}  # fmt: skip


def test_a_worker_that_lost_the_lease_cannot_move_the_checkpoint(
    host: Host, clock: ManualClock
) -> None:
    job_id = start(host, 4)

    def lose_lease(ctx: JobContext) -> None:
        clock.advance(31_000)
        assert host.engine.reap() == 1  # another worker may claim it now

    ctx, outcome = claim_and_run(host, lambda ctx: AfterChunk(ctx, 1, lose_lease))
    assert outcome is None and ctx.state.lost.is_set()
    claim_and_run(host)
    logged = items_logged(host)
    assert [logged.count(f"item {n}") for n in range(1, 9)] == [2, 2, 2, 2, 1, 1, 1, 1]
    assert str(host.engine.require(job_id).status) == "FINISHED"
