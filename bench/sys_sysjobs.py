"""sysjobs: a no-op JavaScript job (RUN_SCRIPT with the source ``1``) on SQLite or PostgreSQL.

Each worker process is what ``sysjobs worker`` runs in a child (``child_main``): one engine,
a :class:`~sysjobs.worker.WorkerPool` with the default slots (``DEFAULT_SLOTS``, 32), and a
:class:`~sysjobs.Host`'s script runner (V8 contexts with the full ``sys`` global, recycled
once proven clean) — so every job evaluates its script in a clean sandbox.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import harness
import sqlalchemy as sa
from pydantic import BaseModel

from sysjobs.jobs import Engine, JobContext, JobType, ScriptRunner, new_owner
from sysjobs.store.database import normalize_url
from sysjobs.worker import DEFAULT_SLOTS
from sysjobs.worker.processes import WorkerConfig, child_main
from sysjobs.worker.scripts import script_job_type

TARGET = sys.argv[sys.argv.index("--target") + 1] if "--target" in sys.argv else ""
SOURCE = "1"
#: ``BENCH_SYSJOBS_JOB=python``: a Python no-op job type instead of the JavaScript one — the
#: engine and the pool alone, without V8 (to tell the engine's cost from the runtime's).
PYTHON_JOBS = os.environ.get("BENCH_SYSJOBS_JOB") == "python"
CONCURRENCY = int(os.environ.get("BENCH_SYSJOBS_CONCURRENCY", str(DEFAULT_SLOTS)))


class _Empty(BaseModel):
    pass


def _noop(_ctx: JobContext, _data: _Empty) -> None:
    """The Python no-op job (``BENCH_SYSJOBS_JOB=python``)."""


def setup(engine: Engine) -> None:
    """Worker hook: the job types this worker runs."""
    engine.register(script_job_type())
    engine.register(JobType("BENCH_NOOP", _Empty, _noop))


def runner() -> ScriptRunner:
    """Worker hook: a Host's script runner (built in the child, after start)."""
    from sysjobs.host import Host

    return Host(os.environ["BENCH_SYSJOBS_URL"]).runner


class Driver:
    """The client side: one engine that enqueues and counts."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine | None = None
        self.ids: dict[str, int] = {}

    def prepare(self) -> None:
        parsed = normalize_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        else:
            admin = sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
            with admin.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            admin.dispose()
        self.engine = Engine.open(self.url)
        setup(self.engine)

    def enqueue(self, numbers: Sequence[int]) -> None:
        assert self.engine is not None
        if PYTHON_JOBS:
            jobs = self.engine.enqueue_many("BENCH_NOOP", [{} for _ in numbers], label="bench")
        else:
            data = [{"_source": SOURCE, "_timeout_s": 30.0} for _ in numbers]
            jobs = self.engine.enqueue_many("RUN_SCRIPT", data, label="bench")
        if len(numbers) == 1:
            self.ids[jobs[0].id] = numbers[0]

    def _scalar(self, sql: str) -> Any:
        assert self.engine is not None
        with self.engine.database.engine.connect() as conn:
            return conn.exec_driver_sql(sql).scalar()

    def done(self) -> int:
        return int(self._scalar("SELECT count(*) FROM jobs WHERE status = 'FINISHED'"))

    def starts(self) -> dict[int, float]:
        assert self.engine is not None
        with self.engine.database.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, started_ms FROM jobs").all()
        return {self.ids[r[0]]: r[1] / 1000 for r in rows if r[0] in self.ids}

    def settle(self) -> None:
        assert self.engine is not None
        if self.engine.database.name == "postgresql":
            with self.engine.database.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE jobs")

    def cleanup(self) -> None:
        if self.engine is not None:
            self.engine.close()


def make(args: argparse.Namespace) -> harness.System:
    driver = Driver(args.target)
    name = "sysjobs-" + normalize_url(args.target).get_backend_name()
    return harness.System(
        name=name,
        prepare=driver.prepare,
        worker_argv=lambda _i: [sys.executable, __file__, "worker", "--target", args.target],
        enqueue=driver.enqueue,
        done=driver.done,
        starts=driver.starts,
        extra_env={"BENCH_SYSJOBS_URL": args.target},
        cleanup=driver.cleanup,
        settle=driver.settle,
        settings={"processes": args.workers, "slots": CONCURRENCY,
                  "job": "python" if PYTHON_JOBS else "javascript"},
    )


def worker() -> None:
    """One worker process (what ``sysjobs worker`` runs in each child)."""
    child_main(
        WorkerConfig(
            url=TARGET, concurrency=CONCURRENCY, setup="sys_sysjobs:setup",
            runner_factory="sys_sysjobs:runner", owner=new_owner(),
        )
    )  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        worker()
    else:
        harness.main(make)
