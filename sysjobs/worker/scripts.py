"""The engine's :class:`~sysjobs.jobs.scripts.ScriptRunner`, built from the sandbox.

Job handlers (EXECUTE_ACTION, EXECUTE_LISTENER, RUN_SCRIPT) run JavaScript through this
runner; the engine and the app never import the sandbox. A script that runs for a job
writes its ``log()`` lines to that job's log, and a forced stop or cancel terminates its
V8 execution by job id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sysjobs.errors import SystemException
from sysjobs.jobs import Job, JobContext, JobType
from sysjobs.jobs.registry import SCRIPT_JOB_TYPE
from sysjobs.jobs.scripts import ItemOutcome, ScriptOutcome, ScriptRunner
from sysjobs.runtime import RunResult, Sandbox, Session

#: Writes one ``log()`` line of a job's script: ``(job_id, line)``.
JobLogWriter = Callable[[str, str], None]

#: How far a recycled V8 context may travel: between scripts of one app (the default), or
#: only between scripts run by one user of that app.
RecycleScope = Literal["app", "user"]


@dataclass(frozen=True)
class TrustDomains:
    """Names the trust domain of a script run: contexts are only recycled within one."""

    #: The app whose scripts run here.
    app: str
    scope: RecycleScope = "app"

    def of(self, user: Mapping[str, Any] | None) -> str:
        """The domain of a run by ``user`` (a job's ``runBy``, or ``Host.run``'s user)."""
        if self.scope == "user":
            return f"{self.app}\x1fuser:{(user or {}).get('id') or ''}"
        return self.app


def to_outcome(result: RunResult) -> ScriptOutcome:
    """The engine's view of a run: ok, value, or the error's code and message."""
    if result.ok:
        return ScriptOutcome(ok=True, value=result.value)
    error = result.error
    code = (error.code or error.name) if error else str(result.outcome)
    return ScriptOutcome(ok=False, error_code=code, error_message=error.message if error else None)


class SandboxScriptRunner:
    """Runs job scripts in ``sandbox``; ``log_writer`` receives their ``log()`` lines.

    ``domains`` names the trust domain of each run (its app, or its app's user): a
    context is only recycled between runs of one domain.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        log_writer: JobLogWriter | None = None,
        job_log: Callable[[str, str], None] | None = None,
        *,
        domains: TrustDomains | None = None,
        user: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.sandbox = sandbox
        #: What the scripts' stack frames are named (a job's action, listener or label).
        self.name = name
        self.domains = domains or TrustDomains("")
        self.domain = self.domains.of(user)
        self.log_writer = log_writer
        #: ``(level, message)`` to the running job's log, fenced (see :meth:`for_job`).
        self.job_log = job_log
        self._sessions: dict[str, Session] = {}

    def for_job(
        self, write: Callable[[str, str], None], user: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> SandboxScriptRunner:  # fmt: skip
        """This runner as one claimed job's handler sees it: the job's ``log()`` lines and
        ``sys.jobs.logInfo/logError(message)`` go through ``write`` — the job context's
        lease-fenced writer — so a worker that lost its lease writes nothing more (the
        refused write is thrown into the script, which stops it). ``user`` is the job's
        ``runBy``, for the trust domain; ``name`` names its scripts in their stacks."""
        return SandboxScriptRunner(
            self.sandbox, lambda _job, line: write("INFO", line), write, domains=self.domains,
            user=user, name=name,
        )  # fmt: skip

    @contextmanager
    def session(self, job_id: str) -> Iterator[SandboxScriptRunner]:
        """While open, runs for ``job_id`` share one context (replaced after a limit event)."""
        with self.sandbox.session(
            job_id=job_id, log_sink=self._sink(job_id), run_id=job_id, job_log=self.job_log,
            domain=self.domain,
        ) as s:
            self._sessions[job_id] = s
            try:
                yield self
            finally:
                self._sessions.pop(job_id, None)

    def _sink(self, job_id: str | None) -> Callable[[str], None] | None:
        if job_id is None or self.log_writer is None:
            return None
        writer = self.log_writer
        return lambda line: writer(job_id, line)

    def run(
        self, source: str, *, job_id: str | None, globals: dict[str, Any], timeout_s: float,
        name: str | None = None,
    ) -> ScriptOutcome:
        result = self.run_result(source, job_id=job_id, globals=globals, timeout_s=timeout_s,
                                 name=name)  # fmt: skip
        return to_outcome(result)

    def run_result(
        self, source: str, *, job_id: str | None, globals: dict[str, Any], timeout_s: float,
        name: str | None = None,
    ) -> RunResult:
        """Like :meth:`run`, with the sandbox's full :class:`RunResult`. ``name`` (an app
        script's file) names this run's frames instead of the job's :attr:`name`."""
        named = name or self.name
        session = self._sessions.get(job_id) if job_id is not None else None
        if session is not None:
            return session.run(source, timeout_s=timeout_s, globals=globals, name=named)
        return self.sandbox.run(
            source, job_id=job_id, globals=globals, timeout_s=timeout_s,
            log_sink=self._sink(job_id), run_id=job_id, job_log=self.job_log,
            domain=self.domain, name=named,
        )  # fmt: skip

    def run_each(
        self, source: str, items: Sequence[dict[str, Any]], on_item: ItemOutcome, *,
        job_id: str, globals: dict[str, Any], timeout_s: float, name: str | None = None,
    ) -> ScriptOutcome:
        """Each item a run of ``source`` in the job's session (:meth:`session`; one of its
        own when none is open), in as few V8 calls as the items allow
        (:meth:`Session.run_each`)."""
        named = name or self.name
        session = self._sessions.get(job_id)
        if session is None:
            with self.session(job_id):
                return self.run_each(source, items, on_item, job_id=job_id, globals=globals,
                                     timeout_s=timeout_s, name=name)  # fmt: skip
        tail = session.run_each(
            source, items, lambda index, result: on_item(index, to_outcome(result)),
            globals=globals, timeout_s=timeout_s, name=named,
        )  # fmt: skip
        return to_outcome(tail)

    def terminate(self, job_id: str) -> None:
        """End the V8 execution of ``job_id``'s script now (forced stop or cancel)."""
        self.sandbox.terminate(job_id)


class RunScriptData(BaseModel):
    """RUN_SCRIPT's inputs, both private (``_``-prefixed: ``data()`` shows neither)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    source: str = Field(alias="_source")
    timeout_s: float = Field(default=30.0, alias="_timeout_s", gt=0)
    #: The schedule and tick that started the job, if a schedule did (docs/schedules.md).
    schedule: dict[str, Any] | None = Field(default=None, alias="_schedule")


def _run_script(ctx: JobContext, data: RunScriptData) -> None:
    """The script runs as the job: ``getCurrentJobId()``, ``log()`` and ``logInfo`` use it.

    A script error is the job's outcome, not a worker failure: it is logged as
    ``code: message`` (which sets hasErrors) and the results carry it.
    """
    runner = ctx.script_runner
    if runner is None:
        raise SystemException("This worker has no script runner.")
    outcome = runner.run(data.source, job_id=ctx.job.id, globals={}, timeout_s=data.timeout_s)
    if outcome.ok:
        ctx.set_results({"value": outcome.value}, at_end=True)
        return
    ctx.log_error(f"{outcome.error_code}: {outcome.error_message}")
    error = {"code": outcome.error_code, "message": outcome.error_message}
    ctx.set_results({"error": error}, at_end=True)


def script_job_type() -> JobType:
    """RUN_SCRIPT: a script run as a background job (``sysjobs run --in-job``)."""
    return JobType(
        name=SCRIPT_JOB_TYPE, data_model=RunScriptData, handler=_run_script, queue="mix",
        public=False,
    )


def bind_to_job(runner: ScriptRunner | None, ctx: JobContext) -> ScriptRunner | None:
    """The runner a claimed job's handler gets: script writes fenced by its lease."""
    if isinstance(runner, SandboxScriptRunner):
        return runner.for_job(
            lambda level, message: _write(ctx, level, message), user=ctx.job.run_by,
            name=script_name(ctx.job),
        )
    return runner


#: The data field naming the script a job type runs (else the job's label names it).
_SCRIPT_NAME_FIELDS = {"EXECUTE_ACTION": "actionName", "EXECUTE_LISTENER": "listenerName"}


def script_name(job: Job) -> str:
    """What a job's script is called in its stack: the action's or listener's name, else
    the job's label (a RUN_SCRIPT's file name), else its type. Sanitised where it is used
    (``sysjobs.runtime.isolate.script_url``)."""
    field = _SCRIPT_NAME_FIELDS.get(job.type)
    named = job.data.get(field) if field is not None else None
    return named if isinstance(named, str) and named else (job.label or job.type)


def _write(ctx: JobContext, level: str, message: str) -> None:
    if level == "ERROR":
        ctx.log_error(message)
    else:
        ctx.log_info(message)
