"""Chaos fixtures (real worker processes on real databases) and the summary table that
``make chaos`` (and any run that includes tests/chaos) prints at the end."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress

import pytest
import sqlalchemy as sa

from bench.pgcluster import PgUnavailable, pg_cluster
from sysjobs.jobs import Engine, EngineSettings
from sysjobs.store import migrate
from sysjobs.worker import WorkerConfig, WorkerProcesses
from tests.chaos import jobtypes
from tests.chaos.audit import TALLY
from tests.conftest import missing

SETUP = "tests.chaos.jobtypes:setup"
#: Short leases so that recovery happens within a scenario's patience.
LEASE_S = 1.0


@pytest.fixture(autouse=True)
def _count_scenario() -> None:
    TALLY.scenarios += 1


@contextmanager
def chaos_engine(url: str, lease_s: float = LEASE_S, stop_grace_s: float = 1.0) -> Iterator[Engine]:
    """The test's own engine on ``url`` (enqueue, wait, read), with the chaos types."""
    engine = Engine.open(url, settings=EngineSettings(lease_s=lease_s, stop_grace_s=stop_grace_s))
    jobtypes.setup(engine)
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def worker_processes(
    url: str, processes: int = 2, concurrency: int = 2, lease_s: float = LEASE_S
) -> Iterator[WorkerProcesses]:
    """Spawned worker processes running the chaos types; stopped (then killed) at the end."""
    config = WorkerConfig(
        url, concurrency=concurrency, lease_s=lease_s, stop_grace_s=1.0, shutdown_grace_s=2.0,
        setup=SETUP,
    )  # fmt: skip
    supervisor = WorkerProcesses(config, processes=processes).start()
    try:
        yield supervisor
    finally:
        for pid in supervisor.pids():  # a SIGSTOPped child would never see SIGTERM
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        supervisor.stop(timeout_s=10)


def wait_for(predicate: object, timeout_s: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate()`` until true."""
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The chaos summary: scenarios, faults injected, jobs, lost, duplicates."""
    if TALLY.scenarios == 0:
        return
    tr = terminalreporter
    tr.write_sep("=", "chaos summary")
    faults = sum(TALLY.faults.values())
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(TALLY.faults.items())) or "none"
    worst = max(TALLY.recovery_s, default=0.0)
    rows = [
        ("scenarios run", str(TALLY.scenarios)),
        ("faults injected", f"{faults} ({kinds})"),
        ("jobs run", str(TALLY.jobs)),
        ("lost", str(TALLY.lost)),
        ("duplicates", str(TALLY.duplicates)),
        ("log lines lost", str(TALLY.logs_lost)),
        ("worst recovery", f"{worst:.1f} s"),
    ]
    for name, value in rows:
        tr.write_line(f"  {name:<16} {value}")


def heavy_on_postgres(url: str) -> None:
    """Run this scenario's PostgreSQL half only under ``make chaos`` (the SQLite half always)."""
    if url.startswith("postgresql") and os.environ.get("SYSJOBS_CHAOS_HEAVY") != "1":
        pytest.skip("heavy chaos variant on PostgreSQL: run with make chaos")


@pytest.fixture
def private_pg_url() -> Iterator[str]:
    """A migrated database on a PostgreSQL cluster of its own, for scenarios that restart
    the server (restarting the session's cluster would cut every other fixture's pool)."""
    with ExitStack() as stack:
        try:
            settings = ("fsync=off", "max_connections=200")
            server = stack.enter_context(pg_cluster("sysjobs-chaos-pg-", settings))
        except PgUnavailable as exc:
            missing(str(exc))
            return
        admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE chaos"))
        admin.dispose()
        db = sa.create_engine(server.url("chaos"))
        migrate.upgrade(db)
        db.dispose()
        yield server.url("chaos")
