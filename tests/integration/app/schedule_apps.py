"""Apps with cron schedules for the scheduled-jobs tests, opened on an engine whose clock the
test steps (``ManualClock``), with the app's job types and RUN_SCRIPT registered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sysjobs.app.app import App
from sysjobs.app.definition import load_app
from sysjobs.app.jobtypes import register_app_job_types
from sysjobs.jobs import Engine, EngineSettings, Job
from sysjobs.worker.scripts import script_job_type
from tests.integration.engine.helpers import ManualClock

#: 2027-01-15T08:00:00Z, on the hour: an hourly schedule's first tick is 09:00Z.
START_MS = 1_800_000_000_000
HOUR_MS = 3_600_000


def write_app(folder: Path, name: str, schedules: str) -> Path:
    """An app ``name`` in ``folder`` with a listener ``tidy`` and the ``schedules:`` YAML
    lines given (indented by two spaces)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tidy.js").write_text("log('tidy ' + event.type + ' ' + event.scheduleName);\n")
    (folder / "report.js").write_text("log('report ran');\n")
    (folder / "app.yaml").write_text(
        f"name: {name}\n"
        "listeners:\n"
        "  tidy: {type: job, jobType: EXPORT_USERS, script: tidy.js}\n"
        f"schedules:\n{schedules}",
        "utf-8",
    )
    return folder


HOURLY = '  hourly: {cron: "0 * * * *", listener: tidy}\n'


@dataclass
class Opened:
    """One app opened on its own engine (as a worker process would)."""

    engine: Engine
    app: App

    def jobs(self) -> list[Job]:
        """The app's jobs, oldest first."""
        return list(reversed(list(self.engine.find({"_size": 1000}))))


@contextmanager
def opened(url: str, folder: Path, clock: ManualClock) -> Iterator[Opened]:
    """The app of ``folder`` on a new engine of ``url`` timed by ``clock``."""
    definition = load_app(folder)
    settings = EngineSettings(app=definition.name, clock=clock)
    engine = Engine.open(url, settings=settings)
    try:
        app = App.open(engine, definition)
        register_app_job_types(engine, app)
        engine.registry.hold(app.held_job_types, version=engine.table_changes("app_state"))
        engine.register(script_job_type())
        yield Opened(engine, app)
    finally:
        engine.close()
