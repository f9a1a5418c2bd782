"""Test harness for the app's job types: a small in-process job runner and a real V8 runner.

``LocalJobs`` stands in for the engine until it lands (same verbs as docs/contracts.md:
``register``, ``enqueue``; a ``JobContext``-shaped context with checkpoint, results,
progress, logs and cooperative stop). Scripts run in the real runtime ``Sandbox`` with the
real ``sys.data`` binding.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sysjobs.app.app import App
from sysjobs.bindings import core_namespaces
from sysjobs.bindings.data import data_namespace
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.jobs.registry import JobType
from sysjobs.jobs.scripts import ScriptOutcome
from sysjobs.runtime import Sandbox

_ids = itertools.count(1)


@dataclass
class LocalJob:
    id: str
    type: str
    data: dict[str, Any]
    label: str | None
    low_priority: bool = False
    queue: str | None = None
    parent_id: str | None = None
    status: str = "PENDING"
    progress: int = 0
    results: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    logs: list[tuple[str, str]] = field(default_factory=list)
    has_errors: bool = False

    def public_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if not k.startswith("_")}

    def errors(self) -> list[str]:
        return [m for level, m in self.logs if level == "ERROR"]


class LocalContext:
    def __init__(self, job: LocalJob, runner: Any, stop_after: int | None) -> None:
        self.job = job
        self.script_runner = runner
        self.checkpoint = job.checkpoint
        self._stop_after = stop_after
        self._checks = 0

    def log_info(self, message: str, info: Any = None) -> None:
        self.job.logs.append(("INFO", message))

    def log_error(self, message: str, info: Any = None) -> None:
        self.job.logs.append(("ERROR", message))
        self.job.has_errors = True

    def set_progress(self, pct: int) -> None:
        assert 0 <= pct <= 100
        self.job.progress = pct

    def should_stop(self) -> bool:
        self._checks += 1
        return self._stop_after is not None and self._checks > self._stop_after

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.job.checkpoint = dict(checkpoint)

    def set_results(self, results: dict[str, Any]) -> None:
        self.job.results = results


class LocalJobs:
    """Enqueue and run jobs in this process, in order."""

    def __init__(self) -> None:
        self.types: dict[str, JobType] = {}
        self.jobs: dict[str, LocalJob] = {}
        self.runner: Any = None

    def register(self, job_type: JobType) -> None:
        self.types[job_type.name] = job_type

    def enqueue(self, type: str, data: Mapping[str, Any], *, label: str | None = None,
                run_by: Any = None, low_priority: bool = False, queue: str | None = None,
                parent_id: str | None = None) -> LocalJob:
        self.types[type].data_model.model_validate(dict(data))
        job = LocalJob(f"{next(_ids):024x}", type, dict(data), label, low_priority, queue,
                       parent_id)
        self.jobs[job.id] = job
        return job

    def run(self, job_id: str, stop_after: int | None = None) -> LocalJob:
        job = self.jobs[job_id]
        job.status = "RUNNING"
        ctx = LocalContext(job, self.runner, stop_after)
        if self.runner is not None:
            self.runner.current[job.id] = ctx
        jt = self.types[job.type]
        jt.handler(ctx, jt.data_model.model_validate(job.data))  # type: ignore[arg-type]
        job.status = "STOPPED" if stop_after is not None and ctx._checks > stop_after else "FINISHED"
        return job

    def pending(self, job_type: str | None = None) -> list[LocalJob]:
        return [j for j in self.jobs.values()
                if j.status == "PENDING" and (job_type is None or j.type == job_type)]


class SandboxRunner:
    """The ``ScriptRunner`` seam over a real ``Sandbox`` with ``sys.data`` bound to the app.

    With an engine, ``sys.jobs`` is bound too and ``log()`` lines go to the job's log.
    """

    def __init__(self, app: App, engine: Any = None) -> None:
        namespaces = [*core_namespaces(), data_namespace(app)]
        if engine is not None:
            namespaces.append(jobs_namespace(engine))
        self.sandbox = Sandbox(namespaces, pool_size=2)
        self.engine = engine
        self.current: dict[str, LocalContext] = {}

    def _sink(self, job_id: str | None) -> Any:
        if self.engine is not None and job_id is not None:
            return lambda line: self.engine.log_info(job_id, line)
        ctx = self.current.get(job_id or "")
        return None if ctx is None else ctx.log_info

    def run(self, source: str, *, job_id: str | None, globals: dict[str, Any],
            timeout_s: float) -> ScriptOutcome:
        sink = self._sink(job_id)
        result = self.sandbox.run(source, timeout_s=timeout_s, job_id=job_id, globals=globals,
                                  log_sink=sink)
        if result.ok:
            return ScriptOutcome(True, result.value)
        error = result.error
        return ScriptOutcome(False, None, error.code if error else result.outcome.value,
                             error.message if error else result.outcome.value)
