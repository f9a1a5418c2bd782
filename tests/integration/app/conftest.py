"""Fixtures of the app tests: the real engine, an in-process worker pool, the demo app and
a V8 script runner, on a fresh database per test — SQLite and PostgreSQL (``db_url`` of
``tests/conftest.py``).

A module whose tests only run scripts and read or write records (no workers of their own)
shares one of these per backend instead (``shared_quiet``/``reseeded``): before each test its
database is emptied and checked (``reused_db_url``, ``tests/emptying.py``) and the app writes
again what opening it on a new database writes — the seed — so a test sees what it saw on a
new database. Opening the engine, the app and a V8 isolate per test was most of a short
test's CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sysjobs.app.app import App
from sysjobs.app.definition import AppDefinition
from sysjobs.app.jobtypes import register_app_job_types
from sysjobs.jobs import Engine, Job
from sysjobs.worker.pool import WorkerPool
from sysjobs.worker.scripts import SandboxScriptRunner
from tests.integration.app.harness import KeptInMemory, LiveJobs, app_runner, write_as_opened


@pytest.fixture
def app_url(db_url: str) -> str:
    """The engine suite's fresh, migrated database (SQLite and PostgreSQL)."""
    return db_url


@dataclass
class AppEnv:
    """The real engine with an in-process worker pool, an app and a V8 runner."""

    engine: Engine
    app: App
    runner: SandboxScriptRunner
    pool: WorkerPool | None
    jobs: LiveJobs

    def js(self, source: str) -> Any:
        result = self.runner.sandbox.run(source, timeout_s=60)
        assert result.ok, result.error
        return result.value

    def wait(self, job_id: str, *statuses: str, timeout_s: float = 120) -> Job:
        return self.engine.wait(job_id, list(statuses or ["FINISHED"]), timeout_s)

    def start_workers(self) -> None:
        if self.pool is None:
            self.pool = WorkerPool(self.engine, concurrency=4, script_runner=self.runner).start()

    def stop_workers(self) -> None:
        if self.pool is not None:
            self.pool.stop(grace_s=5)
            alive = [t.name for t in self.pool._threads if t.is_alive()]
            assert not alive, f"worker threads still running after stop: {alive}"
            self.pool = None

    def close(self) -> None:
        self.stop_workers()
        self.runner.sandbox.close()
        self.engine.close()


def make_env(url: str, definition: AppDefinition | None = None, *, workers: bool = True
             ) -> AppEnv:
    engine = Engine.open(url, migrate=False)  # a copy of the migrated template
    app = App.open(engine, definition)
    register_app_job_types(engine, app)
    env = AppEnv(engine, app, app_runner(app, engine), None, LiveJobs(engine))
    if workers:
        env.start_workers()
    return env


@pytest.fixture
def env(app_url: str) -> Iterator[AppEnv]:
    e = make_env(app_url)
    yield e
    e.close()


#: The same fixture under the name the JS-driven tests read best with.
live = env


@pytest.fixture(scope="module")
def shared_quiet(module_db_url: str) -> Iterator[AppEnv]:
    """The demo app without workers, for the module's tests (see ``reseeded``)."""
    e = make_env(module_db_url, workers=False)
    yield e
    e.close()


@pytest.fixture
def reseeded(reused_db_url: str, shared_quiet: AppEnv) -> Iterator[AppEnv]:
    """``shared_quiet`` on its database emptied, then written as ``App.open`` writes a new
    one (the unowned rows claimed, the seed, the schedules): what ``make_env(…,
    workers=False)`` on a new database holds. What a test changes in memory — hooks, the
    definition records read, workers it started — is put back after it."""
    write_as_opened(shared_quiet.app)
    kept = KeptInMemory(shared_quiet.app)
    yield shared_quiet
    shared_quiet.stop_workers()
    kept.put_back()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Alembic's version-location warning comes from the shared migration config, not us."""
    mark = pytest.mark.filterwarnings("ignore:No path_separator:DeprecationWarning")
    for item in items:
        if "integration/app" in str(item.path):
            item.add_marker(mark)
