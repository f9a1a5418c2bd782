"""Test harness for the app's job types: the worker's real script runner over a V8 sandbox
with the app's bindings, and a view of settled jobs that reads like the spec."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest

import sysjobs.jobs.context as job_context
from sysjobs.app.app import App
from sysjobs.app.jobtypes import loop
from sysjobs.app.schedules import app_schedules
from sysjobs.bindings import core_namespaces
from sysjobs.bindings.data import data_namespace
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.jobs import Engine, Job
from sysjobs.runtime import Sandbox
from sysjobs.worker.scripts import SandboxScriptRunner

#: Statuses a test waits for: the job is done working for now.
SETTLED = ["FINISHED", "STOPPED", "CANCELED"]


def app_runner(app: App, engine: Engine) -> SandboxScriptRunner:
    """The worker's real ``ScriptRunner`` over a sandbox with ``sys.data`` and ``sys.jobs``
    bound to ``app``/``engine``; ``log()`` lines go to the job's log."""
    namespaces = [*core_namespaces(), data_namespace(app), jobs_namespace(engine)]
    return SandboxScriptRunner(Sandbox(namespaces, pool_size=2), engine.log_info)


def write_as_opened(app: App) -> None:
    """Write again what ``App.open`` writes on a new database (the unowned rows claimed,
    the seed, the schedules): after the database was emptied (``tests/emptying.py``), the
    app's rows are a new database's."""
    App.claim_unowned(app.engine)
    app.seed()
    app.engine.schedules.define(app_schedules(app.definition))


def stop_checks_at_every_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job's stop check reads its status at every record, row or chunk: both throttles
    (``loop.STOP_CHECK_S`` between two records, ``context.STOP_POLL_S`` between two reads
    of the job's row; 0.1 s each otherwise) set to 0, so a stop lands at the next safe
    point whatever the machine's pace."""
    monkeypatch.setattr(loop, "STOP_CHECK_S", 0.0)
    monkeypatch.setattr(job_context, "STOP_POLL_S", 0.0)


class StopAt:
    """Holds the job's worker at a chosen point until the test has asked the job to stop.

    With the stop checked at every record or row (:func:`stop_checks_at_every_record`),
    the stop then lands at the next one: the job stops where the test says, whatever the
    machine's pace — not after however many records a busy machine ran before a polling
    test noticed."""

    def __init__(self) -> None:
        self.reached, self.stop_sent = threading.Event(), threading.Event()

    def hold(self) -> None:
        """In the job's worker thread: say the point is reached, wait for the stop."""
        self.reached.set()
        assert self.stop_sent.wait(timeout=120), "the test never asked the job to stop"

    def stop(self, engine: Engine, job_id: str) -> None:
        """In the test: once the point is reached, ask the job to stop, then let it go on."""
        assert self.reached.wait(timeout=120), "the job never reached its stopping point"
        engine.stop(job_id)
        self.stop_sent.set()


class KeptInMemory:
    """What a test may change in an app's memory (record hooks, the definition records
    read), taken before the test and put back after it, for an app the module shares."""

    def __init__(self, app: App) -> None:
        self.records = app.records
        self.hooks, self.written = list(app.records.hooks), list(app.records.written_hooks)
        self.definition = app.records.definition

    def put_back(self) -> None:
        self.records.hooks[:], self.records.written_hooks[:] = self.hooks, self.written
        self.records.definition = self.definition


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
