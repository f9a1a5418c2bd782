"""Real components for the spec-sentence tests: a sandbox with ``sys.jobs`` over a real
engine (:class:`JS`), and jobs put in each status through the engine's own verbs
(:class:`Jobs`) — claimed, finished, stopped and canceled exactly as a worker would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from sysjobs.bindings import core_namespaces
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.bindings.jobs_args import NoArgs
from sysjobs.jobs import PUBLIC_JOB_TYPES, Engine, Job, JobType, Outcome, new_owner
from sysjobs.jobs.ids import now_ms
from sysjobs.jobs.models import to_ms
from sysjobs.runtime import CallContext, Namespace, Operation, RunResult, Sandbox
from sysjobs.store.schema import job_logs

#: The job types the spec says scripts may use (find's ``type``, Job.type()).
SPEC_JOB_TYPES = ("IMPORT_RECORDS", "EXPORT_RECORDS", "EXECUTE_ACTION", "DELETE_RECORDS",
                  "EXECUTE_LISTENER", "IMPORT_USERS", "EXPORT_USERS", "STOP_APP", "START_APP",
                  "DEPLOY_ENDPOINT", "UNDEPLOY_ENDPOINT")
#: Jobs that a test claims go through this queue alone, so a claim takes exactly them.
_CLAIM_QUEUE = "system"


class AnyData(BaseModel):
    model_config = ConfigDict(extra="allow")


def _noop(ctx: Any, data: Any) -> None:
    """Never runs: these tests move jobs through the engine's verbs, not workers."""


def register_public_types(engine: Engine) -> None:
    """Make every public type known (unless the app already registered it)."""
    for name in PUBLIC_JOB_TYPES:
        if engine.registry.get(name) is None:
            engine.register(JobType(name, AnyData, _noop))


class JS:
    """Runs scripts with ``sys.jobs`` over ``engine``; ``__hook()`` calls back into the test."""

    def __init__(self, engine: Engine) -> None:
        self._hook: Callable[[], None] | None = None
        hook = Namespace(
            name="__hook",
            prelude="(function (host) { return function () { host.call('__hook.run', {}); }; })",
            operations=(Operation("run", NoArgs, self._run_hook),),
            global_name="__hook",
        )
        self.sandbox = Sandbox([*core_namespaces(), jobs_namespace(engine), hook], pool_size=0)

    def _run_hook(self, ctx: CallContext, args: NoArgs) -> None:
        if self._hook is not None:
            self._hook()

    def run(
        self, source: str, *, job_id: str | None = None, timeout_s: float = 20.0,
        hook: Callable[[], None] | None = None,
    ) -> RunResult:
        self._hook = hook
        return self.sandbox.run(source, job_id=job_id, timeout_s=timeout_s)

    def run_ok(self, source: str, **kw: Any) -> RunResult:
        result = self.run(source, **kw)
        assert result.ok, result.error
        return result

    def logs(self, source: str, **kw: Any) -> list[str]:
        return list(self.run_ok(source, **kw).logs)

    def value(self, source: str, **kw: Any) -> Any:
        return self.run_ok(source, **kw).value

    def error(self, source: str, **kw: Any) -> tuple[str | None, str]:
        result = self.run(source, **kw)
        assert not result.ok and result.error is not None, "expected the script to throw"
        return result.error.code, result.error.message

    def close(self) -> None:
        self.sandbox.close()


class Jobs:
    """Jobs in a chosen status, made with the engine's verbs; ids are returned."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pending(
        self, *, type: str = "EXECUTE_ACTION", label: str | None = None,
        data: dict[str, Any] | None = None, run_by: dict[str, str] | None = None,
        low_priority: bool = False, after_ms: int | None = None, queue: str = "mix",
    ) -> str:
        if after_ms is not None:
            clock_past(after_ms)
        job = self.engine.enqueue(
            type, data or {}, label=label, run_by=run_by, low_priority=low_priority, queue=queue
        )
        return job.id

    def many_pending(self, count: int) -> list[str]:
        """``count`` PENDING jobs as :meth:`pending` makes them, in one transaction (for the
        tests where only how many there are matters)."""
        return self.engine.enqueue_ids("EXECUTE_ACTION", [{}] * count, queue="mix")

    def running(self, **kw: Any) -> str:
        return self._claim(self.pending(queue=_CLAIM_QUEUE, **kw))[0]

    def _claim(self, job_id: str) -> tuple[str, Any]:
        claimed = self.engine.leases.claim(new_owner(), limit=1, queues=(_CLAIM_QUEUE,))
        assert [c.job.id for c in claimed] == [job_id]
        return job_id, claimed[0].lease

    def finished(
        self, *, errors: bool = False, results: dict[str, Any] | None = None,
        after_ms: int | None = None, **kw: Any,
    ) -> str:
        job_id, lease = self._claim(self.pending(queue=_CLAIM_QUEUE, after_ms=after_ms, **kw))
        if errors:
            self.engine.leases.log(lease, "ERROR", "something failed")
        if results is not None:
            self.engine.leases.set_results(lease, results)
        if after_ms is not None:
            clock_past(after_ms)
        assert self.engine.leases.finish(lease, Outcome.COMPLETED) is not None
        return job_id

    def stopping(self) -> str:
        job_id = self.running()
        self.engine.stop(job_id)
        return job_id

    def stopped(self) -> str:
        job_id, lease = self._claim(self.pending(queue=_CLAIM_QUEUE))
        self.engine.stop(job_id)
        assert self.engine.leases.finish(lease, Outcome.STOPPED) is not None
        return job_id

    def canceling(self) -> str:
        job_id = self.running()
        self.engine.cancel(job_id)
        return job_id

    def canceled(self) -> str:
        job_id = self.pending()
        self.engine.cancel(job_id)
        return job_id

    def in_status(self, status: str) -> str:
        make: dict[str, Callable[[], str]] = {
            "PENDING": self.pending, "RUNNING": self.running, "FINISHED": self.finished,
            "STOPPING": self.stopping, "STOPPED": self.stopped, "CANCELING": self.canceling,
            "CANCELED": self.canceled,
        }
        job_id = make[status]()
        assert str(self.get(job_id).status) == status
        return job_id

    def cancel(self, job_id: str) -> None:
        self.engine.cancel(job_id)

    def log(self, job_id: str, level: str, message: str, info: Any = None) -> None:
        (self.engine.log_error if level == "ERROR" else self.engine.log_info)(
            job_id, message, info
        )

    def log_at(self, job_id: str, level: str, message: str, ts_ms: int) -> None:
        """A log line written at ``ts_ms`` (the past cannot be reached through the API)."""
        with self.engine.database.engine.begin() as conn:
            conn.execute(job_logs.insert(), [
                {"job_id": job_id, "app": self.engine.app, "ts_ms": ts_ms, "level": level,
                 "message": message}
            ])

    def logs(self, job_id: str) -> list[tuple[str, str]]:
        return [(str(e.level), e.message) for e in self.engine.logs(job_id, {})]

    def get(self, job_id: str) -> Job:
        return self.engine.require(job_id)

    def ms(self, job_id: str, attribute: str) -> int:
        value = to_ms(getattr(self.get(job_id), attribute))
        assert value is not None, f"{attribute} of {job_id} is not set"
        return value

    def delete(self, job_id: str) -> None:
        """Remove an ended job from the database, as retention does."""
        if str(self.get(job_id).status) not in ("FINISHED", "CANCELED"):
            self.engine.cancel(job_id)
        clock_past(self.ms(job_id, "ended_at"))  # pruning keeps what ended this millisecond
        self.engine.prune(jobs_days=0)
        assert self.engine.get(job_id) is None


def clock_past(ms: int) -> None:
    """Return once the wall clock is past ``ms`` (range filters compare milliseconds).

    What is awaited is the clock itself moving on — at most a millisecond or two — so the
    wait is on that condition, not a guessed duration.
    """
    while now_ms() <= ms:  # whole milliseconds, as the engine stamps them
        time.sleep(0.001)


def next_ms() -> int:
    """A millisecond later than every time stamped before the call (waits for the clock)."""
    start = now_ms()
    clock_past(start)
    return now_ms()
