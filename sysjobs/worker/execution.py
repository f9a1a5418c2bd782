"""Running one claimed job: run the handler, then finalize — fenced by the lease.

The claim happened in the pool's dispatcher; here the handler runs in its own thread with a
:class:`~sysjobs.jobs.JobContext`, and the outcome is written with one fenced statement.
A handler that lost its lease (``LeaseLost``) writes nothing more: the job belongs to
someone else now. A forced stop ends the lease from the heartbeat thread; the handler's
thread is abandoned, and anything it still tries to write is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sysjobs.jobs import (
    Claimed,
    ClaimSpec,
    Engine,
    FinishRequest,
    Flag,
    Job,
    JobContext,
    LeaseLost,
    Outcome,
    RunState,
)
from sysjobs.jobs.clock import while_unanswered
from sysjobs.jobs.scripts import ScriptRunner, TerminableScriptRunner
from sysjobs.worker.scripts import bind_to_job

log = logging.getLogger(__name__)
#: Writes one job's end (and leases what its ``then_claim`` asks for).
WriteEnd = Callable[[FinishRequest], tuple[Job | None, list[Claimed]]]
#: Seconds a worker keeps trying to write a job's end while the database is away.
FINISH_RETRY_S = 60.0


@dataclass
class Running:
    """A job this pool is executing."""

    claimed: Claimed
    state: RunState = field(default_factory=RunState)
    #: Set once the job's lease was ended (by the run itself, or forced by the heartbeat).
    ended: Flag = field(default_factory=Flag)

    @property
    def job_id(self) -> str:
        return self.claimed.lease.job_id


def run_job(
    engine: Engine, running: Running, runner: ScriptRunner | None,
    then_claim: Callable[[], ClaimSpec | None] = lambda: None,
    finish: WriteEnd | None = None,
) -> list[Claimed]:  # fmt: skip
    """Run the handler, then finalize (unless the lease was lost or forced meanwhile).

    ``then_claim`` is asked, once the handler is done, what to lease in the finishing
    transaction for this thread to run next; the jobs leased are returned. ``finish``
    writes the end (the pool's group commit); by default, a transaction of its own.
    """
    outcome, error, unlogged = _run_handler(engine, running, runner)
    if outcome is None or running.ended.is_set():
        return []
    write = finish or (lambda request: engine.leases.finish_many([request])[0])
    try:
        return _finish(engine, running, outcome, error, unlogged, then_claim(), write)
    finally:
        running.ended.set()


def _finish(
    engine: Engine, running: Running, outcome: Outcome, error: str | None, unlogged: bool,
    then_claim: ClaimSpec | None, write: WriteEnd,
) -> list[Claimed]:  # fmt: skip
    """Write the end, retrying while the database does not answer (a restart, a cut
    connection): the job stays in the pool meanwhile, so its heartbeat keeps the lease —
    giving up early would leave it RUNNING under a lease renewed for nobody."""
    request = FinishRequest(
        running.claimed.lease, outcome, reason=error, has_errors=bool(error),
        results=running.state.results, progress=running.state.progress, then_claim=then_claim,
    )  # fmt: skip
    logged = not unlogged

    def end() -> list[Claimed]:
        nonlocal logged
        if not logged and error is not None:  # the reason goes in the job's log first
            logged = engine.leases.log(running.claimed.lease, "ERROR", error)
        _ended, claimed = write(request)
        return claimed

    def warn() -> None:
        log.warning("sysjobs: could not end job %s yet; retrying", running.job_id)

    return while_unanswered(engine.clock, end, within_s=FINISH_RETRY_S, warn=warn)


def _run_handler(
    engine: Engine, running: Running, runner: ScriptRunner | None
) -> tuple[Outcome | None, str | None, bool]:
    """(outcome, error text, whether that text still has to be logged); outcome None means
    "not ours any more, write nothing"."""
    claimed = running.claimed
    job_type = engine.registry.get(claimed.job.type)
    ctx = JobContext(
        engine, claimed.lease, claimed.job,
        checkpoint=claimed.checkpoint, script_runner=runner, state=running.state,
    )  # fmt: skip
    ctx.script_runner = bind_to_job(runner, ctx)
    try:
        if job_type is None:
            raise LookupError(f"job type {claimed.job.type} is not registered in this worker")
        job_type.handler(ctx, job_type.data_model.model_validate(claimed.job.data))
    except LeaseLost:
        return None, None, False
    except Exception as exc:  # the handler's failure is the job's, not the worker's
        log.exception("sysjobs: job %s (%s) failed", claimed.job.id, claimed.job.type)
        message = f"Job failed: {type(exc).__name__}: {exc}"
        try:
            ctx.log_error(message)
        except LeaseLost:
            return None, None, False
        except Exception:  # the database is away: the finish retries, logging it first
            log.exception("sysjobs: could not log the failure of job %s", claimed.job.id)
            return Outcome.FAILED, message, True
        return Outcome.FAILED, message, False
    return (Outcome.STOPPED if running.state.acknowledged else Outcome.COMPLETED), None, False


def force_end(
    engine: Engine, running: Running, runner: ScriptRunner | None, *, released: bool = False
) -> None:
    """End a job that would not stop in time: terminate its script, close its lease."""
    if running.ended.is_set():
        return
    running.ended.set()
    running.state.lost.set()
    if isinstance(runner, TerminableScriptRunner):
        try:
            runner.terminate(running.job_id)
        except Exception:  # terminating is best effort; the lease is what counts
            log.exception("sysjobs: could not terminate the script of job %s", running.job_id)
    outcome = Outcome.RELEASED if released else Outcome.FORCED
    why = (
        "Put back: the worker shut down before the job reached a safe point."
        if released
        else "Forced: the job did not stop within the grace period; its execution was ended."
    )
    engine.leases.log(running.claimed.lease, "INFO", why)
    engine.leases.finish(running.claimed.lease, outcome)
