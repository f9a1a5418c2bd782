"""Shared database fixtures: every engine test runs on SQLite and on a real PostgreSQL.

``pg_server`` starts a throwaway PostgreSQL cluster from the machine's binaries for the whole
session (``bench/pgcluster.py``, the starter the benchmarks share: as the ``postgres`` user
when we are root, a free port, a private socket directory) and removes it afterwards; under
pytest-xdist the run's test processes share one (``tests/pgshared.py``). Each PostgreSQL test
gets its own database cloned from a migrated template (``CREATE DATABASE … TEMPLATE``), which
is much faster than migrating every time — and once a test is done with its database, it is
emptied and renamed for the next test rather than dropped (``tests/pgdatabases.py``); each
SQLite test gets a copy of a migrated file.

Without PostgreSQL binaries the PostgreSQL half is skipped — unless ``SYSJOBS_REQUIRE_PG=1``
(CI), where a missing server fails the run.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from bench.pgcluster import PgCluster, PgUnavailable, pg_cluster
from sysjobs.jobs import Engine
from sysjobs.store import migrate
from tests import pgshared
from tests.emptying import Emptier
from tests.pgdatabases import PgDatabases

if TYPE_CHECKING:
    from sysjobs.runtime.launcher import Launcher

TEMPLATE_DB = "sysjobs_template"
#: The test cluster's server settings (``bench/pgcluster.py`` starts it). No autovacuum: a
#: reused database must not gain planner statistics after its check (``tests/pgdatabases.py``).
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=300",
            "autovacuum=off")  # fmt: skip

#: The running throwaway cluster (its ``url(database)`` is what the tests use).
PgServer = PgCluster


def missing(reason: str) -> None:
    """Skip a PostgreSQL test — or fail it under ``SYSJOBS_REQUIRE_PG=1`` (CI)."""
    if os.environ.get("SYSJOBS_REQUIRE_PG") == "1":
        pytest.fail(f"PostgreSQL is required (SYSJOBS_REQUIRE_PG=1) but {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """A PostgreSQL cluster for the session, with a migrated template database — under
    pytest-xdist one for the whole run, which its test processes share (``tests/pgshared.py``)."""
    folder = pgshared.shared_folder(request.config)
    if folder is not None:
        try:
            shared = pgshared.shared_cluster(folder, SETTINGS, _make_template)
        except PgUnavailable as exc:
            missing(str(exc))
            return
        yield shared
        return
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(pg_cluster("sysjobs-pg-", SETTINGS))
        except PgUnavailable as exc:
            missing(str(exc))
            return
        previous = signal.getsignal(signal.SIGTERM)
        if previous == signal.SIG_DFL:  # `timeout pytest …`: still stop the cluster on SIGTERM
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            _make_template(server)
            yield server
        finally:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt("SIGTERM")  # pytest then runs the finalizers


def _admin(server: PgServer) -> sa.Engine:
    return sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")


def _make_template(server: PgServer) -> None:
    admin = _admin(server)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{TEMPLATE_DB}"'))
    admin.dispose()
    engine = sa.create_engine(server.url(TEMPLATE_DB))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_databases(pg_server: PgServer) -> Iterator[PgDatabases]:
    """This session's pool of empty migrated databases (cloned from the template, reused)."""
    databases = PgDatabases(pg_server.url, TEMPLATE_DB)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "sysjobs.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database per test: a SQLite file, or a PostgreSQL database."""
    with _migrated_database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``db_url`` for a whole module: one migrated database its tests share — emptied between
    them by ``reused_db_url`` (``tests/emptying.py``), or only read."""
    with _migrated_database(request.param, request, tmp_path_factory.mktemp("module-db")) as url:
        yield url


@pytest.fixture
def own_db_url(request: pytest.FixtureRequest, module_db_url: str, tmp_path: Path) -> Iterator[str]:
    """A new migrated database of ``module_db_url``'s backend, for one test of a module that
    shares ``module_db_url``: a test that changes what the module's other tests read."""
    backend = "sqlite" if module_db_url.startswith("sqlite") else "postgres"
    with _migrated_database(backend, request, tmp_path) as url:
        yield url


@contextlib.contextmanager
def _migrated_database(
    backend: str, request: pytest.FixtureRequest, folder: Path
) -> Iterator[str]:
    """A migrated, empty database of ``backend``: a copy of the SQLite template in
    ``folder``, or a database of the PostgreSQL pool, given back (emptied) afterwards."""
    if backend == "sqlite":
        path = folder / "sysjobs.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    databases: PgDatabases = request.getfixturevalue("pg_databases")
    name = databases.take()
    try:
        yield server.url(name)
    finally:
        databases.give_back(name)


@pytest.fixture(scope="module")
def emptier(module_db_url: str) -> Iterator[Emptier]:
    """Empties the module's database between its tests."""
    opened = Emptier(module_db_url)
    yield opened
    opened.close()


@pytest.fixture
def reused_db_url(module_db_url: str, emptier: Emptier) -> str:
    """The module's database, emptied: it holds what a new one holds (``tests/emptying.py``).
    A module overrides ``db_url`` with this one to share its database, engine and sandbox."""
    emptier.empty()
    return module_db_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """``Engine.open(db_url)``, closed after the test. ``db_url`` is a copy of a migrated
    template: checking its revisions again (``migrate=True``) cost ~3 ms of CPU a test on
    SQLite, ~10 ms and a connection on PostgreSQL."""
    opened = Engine.open(db_url, migrate=False)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session", autouse=True)
def _share_pg_with_other_suites(request: pytest.FixtureRequest) -> Iterator[None]:
    """Give suites that read ``SYSJOBS_TEST_PG_URL`` this session's server (if they run)."""
    wants_pg = any(
        "postgres" in getattr(getattr(item, "callspec", None), "id", "")
        for item in request.session.items
    )
    if not wants_pg or os.environ.get("SYSJOBS_TEST_PG_URL"):
        yield
        return
    with contextlib.suppress(pytest.skip.Exception):
        server: PgServer = request.getfixturevalue("pg_server")
        os.environ["SYSJOBS_TEST_PG_URL"] = server.url()
    yield
    os.environ.pop("SYSJOBS_TEST_PG_URL", None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The controller of an xdist run stops the shared cluster on SIGTERM too."""
    controller = pgshared.is_xdist_controller(session.config)
    if controller and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller of an xdist run stops the cluster its test processes shared, once they
    have all ended (and dropped their databases)."""
    folder = pgshared.controller_folder(session.config)
    if folder is not None:
        pgshared.stop_shared(folder)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Heavy variants (``chaos_heavy``) run only under ``make chaos`` (``SYSJOBS_CHAOS_HEAVY=1``),
    wherever they live: kept here, the rule holds for ``tests/hostile`` too, which
    ``make pytest`` runs while it ignores ``tests/chaos`` (and its conftest).

    No scenario is rerun: each places its fault at the step it aims at (a held write lock,
    a worker frozen outside its transactions, a wait on the log line it follows), so a
    failure is a finding, not a missed window.
    """
    heavy = os.environ.get("SYSJOBS_CHAOS_HEAVY") == "1"
    skip = pytest.mark.skip(reason="heavy chaos variant: run with make chaos")
    for item in items:
        if not heavy and item.get_closest_marker("chaos_heavy"):
            item.add_marker(skip)


#: The test processes' cyclic garbage collector thresholds (Python's are 700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 20)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collect cyclic garbage far less often in a test process, and never walk what the
    imports and the collected tests made: with Python's thresholds a collection ran every 700
    allocations, 4,406 of them over 861 engine and app tests, ~6.5 % of those processes' CPU
    (SQLAlchemy and pydantic allocate much per statement); at these, 35 and ~1.9 %. Nothing a
    test asserts waits on a collection: a test that needs one calls ``gc.collect()``."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.fixture(scope="session")
def launcher() -> Iterator[Launcher]:
    """This test process's pre-imported launcher (``sysjobs/runtime/launcher.py``): tests
    that are not about how a child starts fork their worker processes and script children
    from it, sparing each child ~0.6 s of CPU of imports. (Imported here: a test process
    that starts no child does not import the worker side.)"""
    from sysjobs.runtime.launcher import Launcher
    from sysjobs.worker.processes import LAUNCH_PRELOAD

    with Launcher.start(LAUNCH_PRELOAD) as started:
        yield started
