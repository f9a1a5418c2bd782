"""``sys.jobs``: the spec's job functions, as thin validated calls into the engine.

Why the binding validates IDs and statuses itself instead of leaving it to the engine: the
spec promises messages that name *the script's* parameter (``id`` for ``findById``,
``jobId`` elsewhere), and only the binding knows which one the script passed.

It calls only the engine's public verbs (``docs/contracts.md``). Every operation is
:func:`~sysjobs.bindings.commons.bounded` by the script's deadline; ``waitForJob`` and
``waitForJobs`` also cut their wait to the time the script has left. The queries of
``find`` and ``logs`` (``Job.logs()`` too) — the first page, each later page and
``count()`` — run under ``Engine.reads_until`` the script's deadline, as ``sys.data``'s do:
a ``message`` filter scanning a long log ends with ``timeout`` at that deadline instead of
holding the worker (and the GIL) past it.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from sysjobs.bindings import jobs_args as a
from sysjobs.bindings.commons import Reads, bounded, each_within, open_result_set, within
from sysjobs.errors import Timeout
from sysjobs.jobs import Engine, Job, JobLog
from sysjobs.jobs.in_job import start_in_job
from sysjobs.jobs.waiting import outstanding_text
from sysjobs.runtime.governor import JOBS_STARTED, LOG_BYTES, utf8_size
from sysjobs.runtime.namespace import CallContext, Namespace, Operation

_PRELUDE = resources.files("sysjobs.bindings").joinpath("jobs.js").read_text("utf-8")
#: Time kept back from the script's deadline when a wait is cut short by it, so that the
#: script can still catch the ``timeout`` and react (the samples log a line).
DEADLINE_MARGIN_S = 0.25


def _ms(value: Any) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def encode_job(job: Job) -> dict[str, Any]:
    """What a ``sys.jobs.Job`` method reads; ``data`` without private ``_`` inputs."""
    data = {k: v for k, v in (job.data or {}).items() if not str(k).startswith("_")}
    return {
        "id": job.id,
        "label": job.label,
        "type": job.type,
        "status": str(job.status),
        "progress": job.progress,
        "waiting": job.waiting_ms(),
        "duration": job.duration_ms(),
        "hasErrors": bool(job.has_errors),
        "startDate": _ms(job.started_at),
        "endDate": _ms(job.ended_at),
        "runBy": job.run_by,
        "data": data,
        "results": job.results,
    }


def encode_log(entry: JobLog) -> dict[str, Any]:
    """What a ``sys.jobs.JobLog`` method reads (logs never change, so one snapshot)."""
    return {
        "timestamp": _ms(entry.timestamp),
        "level": str(entry.level),
        "message": entry.message,
        "additionalInfo": entry.additional_info,
    }


class _Jobs:
    """The operations, closed over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find_by_id(self, ctx: CallContext, args: a.FindByIdArgs) -> dict[str, Any] | None:
        job = self.engine.get(args.id)
        return None if job is None else encode_job(job)

    def get(self, ctx: CallContext, args: a.FindByIdArgs) -> dict[str, Any]:
        return encode_job(self.engine.require(args.id))

    def tree(self, ctx: CallContext, args: a.FindByIdArgs) -> dict[str, Any]:
        """``parentJob``/``rootJob`` (``{id, label}`` or null) and the children counts."""
        job = self.engine.require(args.id)
        return self.engine.tree_info([job])[job.id].as_json()

    def find(self, ctx: CallContext, args: a.FindArgs) -> dict[str, Any]:
        reads = self._reads(ctx)
        with reads():
            cursor = self.engine.find(args.query)
        return open_result_set(
            ctx, each_within(reads, iter(cursor)), lambda: within(reads, cursor.count),
            lambda job: {"id": job.id}, cursor.close,
        )  # fmt: skip

    def logs(self, ctx: CallContext, args: a.LogsArgs) -> dict[str, Any]:
        reads = self._reads(ctx)
        with reads():
            cursor = self.engine.logs(args.jobId, args.query)
        return open_result_set(
            ctx, each_within(reads, iter(cursor)), lambda: within(reads, cursor.count),
            encode_log, cursor.close,
        )  # fmt: skip

    def _reads(self, ctx: CallContext) -> Reads:
        """Opens a block whose queries stop at the script's deadline (each page's too)."""
        return lambda: self.engine.reads_until(ctx.deadline)

    def log(self, ctx: CallContext, args: a.LogArgs) -> None:
        job_id = args.jobId if args.jobId is not None else ctx.job_id
        if job_id is None:
            return  # the spec: without a current job the log is discarded silently
        ctx.charge(LOG_BYTES, utf8_size(args.message))
        if job_id == ctx.job_id and ctx.job_log is not None:
            ctx.job_log(args.level, args.message)  # fenced by the running job's lease
            return
        self._append(job_id, args.level, args.message)

    def job_log(self, ctx: CallContext, args: a.JobLogArgs) -> None:
        ctx.charge(LOG_BYTES, utf8_size(args.message))
        self._append(args.jobId, args.level, args.message)

    def _append(self, job_id: str, level: str, message: str) -> None:
        if level == "ERROR":
            self.engine.log_error(job_id, message)
        else:
            self.engine.log_info(job_id, message)

    def wait_for_job(self, ctx: CallContext, args: a.WaitArgs) -> None:
        asked = args.maxTimeToWait / 1000
        allowed = max(0.0, ctx.remaining() - DEADLINE_MARGIN_S)
        try:
            self.engine.wait(args.jobId, list(args.desiredStatus), min(asked, allowed))
        except Timeout as exc:
            raise self._timeout(args, exc, cut=allowed < asked) from None

    def _timeout(self, args: a.WaitArgs, exc: Timeout, *, cut: bool) -> Timeout:
        # The status the engine read as the wait ended: reading it again took a second
        # query out of the margin a cut wait leaves the script (``DEADLINE_MARGIN_S``).
        info = exc.info if isinstance(exc.info, dict) else {}
        status = str(info.get("status", "unknown"))
        wanted = " or ".join(args.desiredStatus)
        why = "before the script's time limit" if cut else f"within {args.maxTimeToWait:g} ms"
        return Timeout(
            f"Job {args.jobId} did not reach {wanted} {why}; its status is {status}.",
            info={"jobId": args.jobId, "status": status, "desiredStatus": args.desiredStatus},
        )

    def wait_for_jobs(self, ctx: CallContext, args: a.WaitManyArgs) -> None:
        asked = args.maxTimeToWait / 1000
        allowed = max(0.0, ctx.remaining() - DEADLINE_MARGIN_S)
        try:
            self.engine.wait_all(args.jobIds, list(args.desiredStatus), min(asked, allowed))
        except Timeout as exc:
            raise self._many_timeout(args, exc, cut=allowed < asked) from None

    def _many_timeout(self, args: a.WaitManyArgs, exc: Timeout, *, cut: bool) -> Timeout:
        info = exc.info if isinstance(exc.info, dict) else {}
        statuses = info.get("statuses") or {}
        wanted = " or ".join(args.desiredStatus)
        why = "before the script's time limit" if cut else f"within {args.maxTimeToWait:g} ms"
        return Timeout(
            f"{len(statuses)} of {len(args.jobIds)} jobs did not reach {wanted} {why}: "
            f"{outstanding_text(statuses)}.",
            info={"jobIds": list(statuses), "statuses": statuses,
                  "desiredStatus": args.desiredStatus},
        )  # fmt: skip

    def execute_in_job(self, ctx: CallContext, args: a.ExecuteInJobArgs) -> str:
        """The job that runs the callback over the items; a child of the script's job."""
        ctx.charge(JOBS_STARTED)  # before the job exists, as sys.data's starters do
        job = start_in_job(self.engine, args.items, args.queue, args.callback, args.step,
                           parent_id=ctx.job_id, run_by=ctx.user)  # fmt: skip
        return job.id

    def set_low(self, ctx: CallContext, args: a.JobIdArgs) -> None:
        self.engine.set_low_priority(args.jobId, True)

    def remove_low(self, ctx: CallContext, args: a.JobIdArgs) -> None:
        self.engine.set_low_priority(args.jobId, False)

    def current_id(self, ctx: CallContext, args: a.NoArgs) -> str | None:
        return ctx.job_id

    def current(self, ctx: CallContext, args: a.NoArgs) -> dict[str, Any] | None:
        job = self.engine.get(ctx.job_id) if ctx.job_id is not None else None
        return None if job is None else encode_job(job)


def jobs_namespace(engine: Engine) -> Namespace:
    """The ``sys.jobs`` namespace over ``engine``."""
    j = _Jobs(engine)
    ops: tuple[Operation[Any], ...] = (
        bounded(Operation("findById", a.FindByIdArgs, j.find_by_id)),
        bounded(Operation("get", a.FindByIdArgs, j.get)),
        bounded(Operation("tree", a.FindByIdArgs, j.tree)),
        bounded(Operation("find", a.FindArgs, j.find)),
        bounded(Operation("logs", a.LogsArgs, j.logs)),
        bounded(Operation("jobLogs", a.JobLogsArgs, j.logs)),
        bounded(Operation("log", a.LogArgs, j.log)),
        bounded(Operation("jobLog", a.JobLogArgs, j.job_log)),
        bounded(Operation("waitForJob", a.WaitArgs, j.wait_for_job)),
        bounded(Operation("waitForJobs", a.WaitManyArgs, j.wait_for_jobs)),
        bounded(Operation("executeInJob", a.ExecuteInJobArgs, j.execute_in_job)),
        bounded(Operation("setLowPriority", a.JobIdArgs, j.set_low)),
        bounded(Operation("removeLowPriority", a.JobIdArgs, j.remove_low)),
        bounded(Operation("getCurrentJobId", a.NoArgs, j.current_id)),
        bounded(Operation("getCurrentJob", a.NoArgs, j.current)),
    )
    return Namespace(name="jobs", prelude=_PRELUDE, operations=ops)
