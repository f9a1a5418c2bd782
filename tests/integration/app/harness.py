"""Test harness for the app's job types: the ``ScriptRunner`` seam over a real V8 sandbox,
and a view of finished jobs that reads like the spec (data(), results(), logs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sysjobs.app.app import App
from sysjobs.bindings import core_namespaces
from sysjobs.bindings.data import data_namespace
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.jobs import Engine, Job
from sysjobs.jobs.scripts import ScriptOutcome
from sysjobs.runtime import Sandbox

#: Statuses a test waits for: the job is done working for now.
SETTLED = ["FINISHED", "STOPPED", "CANCELED"]


class SandboxRunner:
    """Runs app scripts in a real ``Sandbox`` with ``sys.data`` and ``sys.jobs`` bound;
    ``log()`` lines go to the job's log."""

    def __init__(self, app: App, engine: Engine) -> None:
        namespaces = [*core_namespaces(), data_namespace(app), jobs_namespace(engine)]
        self.sandbox = Sandbox(namespaces, pool_size=2)
        self.engine = engine

    def run(self, source: str, *, job_id: str | None, globals: dict[str, Any],
            timeout_s: float) -> ScriptOutcome:
        engine = self.engine
        sink = None if job_id is None else (lambda line: engine.log_info(job_id, line))
        result = self.sandbox.run(source, timeout_s=timeout_s, job_id=job_id, globals=globals,
                                  log_sink=sink)
        if result.ok:
            return ScriptOutcome(True, result.value)
        error = result.error
        return ScriptOutcome(False, None, error.code if error else result.outcome.value,
                             error.message if error else result.outcome.value)


@dataclass
class JobView:
    """A settled job and its log lines."""

    job: Job
    logs: list[tuple[str, str]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.job, name)

    def public_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.job.data.items() if not k.startswith("_")}

    def errors(self) -> list[str]:
        return [m for level, m in self.logs if level == "ERROR"]


class LiveJobs:
    """Waits for jobs the worker pool runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run(self, job_id: str, timeout_s: float = 120) -> JobView:
        """The job once settled (the pool runs it)."""
        job = self.engine.wait(job_id, SETTLED, timeout_s)
        logs = [(entry.level, entry.message) for entry in self.engine.logs(job_id, {})]
        return JobView(job, logs)

    def of_type(self, job_type: str) -> list[JobView]:
        """Every job of ``job_type``, each once settled, oldest first."""
        ids = [j.id for j in self.engine.find({"type": job_type})]
        return [self.run(i) for i in reversed(ids)]

    def count(self) -> int:
        return self.engine.find({}).count()
