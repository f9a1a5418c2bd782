"""PostgreSQL's schema has one truth written twice, held equal here.

``sysjobs/store/postgres/sql/schema.sql`` is the current schema, functions included; the
revisions, applied in order to an empty database, must leave exactly that — the same
tables, columns, sequences, constraints, indexes, extensions and function definitions (the
catalogs compared, normalised to sorted rows). And a database at revision 0007 with jobs in
it — one of them running under 0007's lease function — upgrades in place: afterwards every
job still runs and finishes, the running one included.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.app.app import App
from sysjobs.jobs import EngineSettings, Outcome
from sysjobs.jobs.leases import Lease
from sysjobs.store import migrate
from sysjobs.store.postgres.sql import statements
from tests.conftest import PgServer
from tests.integration.engine.helpers import open_engine, running_pool
from tests.integration.engine.jobtypes import register

pytestmark = pytest.mark.postgres

#: Each part of the schema, as rows a query of the catalogs returns (``public`` only; the
#: pg_trgm extension's own functions and Alembic's version table aside).
CATALOG: dict[str, str] = {
    "columns": """
        SELECT table_name, column_name, data_type, character_maximum_length,
               numeric_precision, is_nullable, column_default, is_identity
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'alembic_version'""",
    "tables": """
        SELECT table_name, table_type FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name <> 'alembic_version'""",
    "sequences": """
        SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences
        WHERE sequence_schema = 'public'""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
          AND conrelid::regclass::text <> 'alembic_version'""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'""",
    "extensions": "SELECT extname FROM pg_extension",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid),
               pg_get_function_result(p.oid), l.lanname, p.provolatile, p.proconfig, p.prosrc
        FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
}


def _catalog(url: str) -> dict[str, list[tuple[str, ...]]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return {
                part: sorted(tuple(map(str, row)) for row in conn.execute(sa.text(query)))
                for part, query in CATALOG.items()
            }
    finally:
        engine.dispose()


@pytest.fixture
def new_database(pg_server: PgServer) -> Iterator[Callable[[], str]]:
    """Makes empty databases (dropped after the test); returns each one's URL."""
    admin = sa.create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"s_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return pg_server.url(name)

    try:
        yield make
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _apply_schema_file(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        for statement in statements("schema.sql"):
            conn.exec_driver_sql(statement)
    engine.dispose()


def _migrate(url: str, revision: str = "heads") -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    migrate.upgrade(engine, revision)
    engine.dispose()


def test_the_revisions_in_order_leave_the_schema_file(new_database: Callable[[], str]) -> None:
    migrated, from_file = new_database(), new_database()
    _migrate(migrated)
    _apply_schema_file(from_file)
    expected, found = _catalog(from_file), _catalog(migrated)
    assert {part: rows for part, rows in found.items() if rows != expected[part]} == {}
    # and the comparison sees what matters: the current lease function (0020's _v8, which
    # calls 0018's _v7 take and fair rounds) and the four releases before's (0018's _v7,
    # 0017's _v6, 0016's _v5, 0011's _v4) only (0011 dropped the _v3 ones, which claim across
    # apps), every table
    names = {row[0] for row in found["functions"]}
    assert names == {
        "sysjobs_claim_batch_v4", "sysjobs_claim_fair_v4", "sysjobs_end_and_claim_v4",
        "sysjobs_claim_take_v5", "sysjobs_claim_batch_v5", "sysjobs_claim_fair_v5",
        "sysjobs_end_and_claim_v5", "sysjobs_claim_take_v6", "sysjobs_claim_batch_v6",
        "sysjobs_claim_fair_v6", "sysjobs_end_and_claim_v6", "sysjobs_claim_take_v7",
        "sysjobs_claim_batch_v7", "sysjobs_claim_fair_v7", "sysjobs_end_and_claim_v7",
        "sysjobs_end_and_claim_v8",
    }  # fmt: skip
    assert {"jobs", "job_logs", "job_events", "job_results"} <= {r[0] for r in found["tables"]}


def test_revision_0017_downgrades_to_the_v5_functions_and_upgrades_back(
    new_database: Callable[[], str],
) -> None:
    migrated, from_file = new_database(), new_database()
    _migrate(migrated)
    engine = sa.create_engine(migrated, poolclass=sa.NullPool)
    migrate.downgrade(engine, "0016")
    engine.dispose()
    names = {row[0] for row in _catalog(migrated)["functions"]}
    assert {n for n in names if n.endswith("_v6")} == set()
    assert "sysjobs_end_and_claim_v5" in names
    _migrate(migrated)
    _apply_schema_file(from_file)
    expected, found = _catalog(from_file), _catalog(migrated)
    assert {part: rows for part, rows in found.items() if rows != expected[part]} == {}


def test_revision_0018_downgrades_to_the_v6_functions_and_upgrades_back(
    new_database: Callable[[], str],
) -> None:
    migrated, from_file = new_database(), new_database()
    _migrate(migrated)
    engine = sa.create_engine(migrated, poolclass=sa.NullPool)
    migrate.downgrade(engine, "0017")
    engine.dispose()
    names = {row[0] for row in _catalog(migrated)["functions"]}
    assert {n for n in names if n.endswith("_v7")} == set()
    assert {"sysjobs_end_and_claim_v6", "sysjobs_claim_take_v6"} <= names
    _migrate(migrated)
    _apply_schema_file(from_file)
    expected, found = _catalog(from_file), _catalog(migrated)
    assert {part: rows for part, rows in found.items() if rows != expected[part]} == {}


def test_revision_0019_downgrades_to_full_time_indexes_and_upgrades_back(
    new_database: Callable[[], str],
) -> None:
    migrated, from_file = new_database(), new_database()
    _migrate(migrated)
    engine = sa.create_engine(migrated, poolclass=sa.NullPool)
    migrate.downgrade(engine, "0018")
    engine.dispose()
    indexes = {row[1]: row[2] for row in _catalog(migrated)["indexes"]}
    assert indexes["ix_jobs_started"].endswith("USING btree (started_ms)")
    assert indexes["ix_jobs_ended"].endswith("USING btree (ended_ms)")
    _migrate(migrated)
    _apply_schema_file(from_file)
    expected, found = _catalog(from_file), _catalog(migrated)
    assert {part: rows for part, rows in found.items() if rows != expected[part]} == {}
    indexes = {row[1]: row[2] for row in found["indexes"]}
    assert indexes["ix_jobs_started"].endswith("WHERE (started_ms IS NOT NULL)")


def test_revision_0020_downgrades_to_the_v7_functions_and_upgrades_back(
    new_database: Callable[[], str],
) -> None:
    migrated, from_file = new_database(), new_database()
    _migrate(migrated)
    engine = sa.create_engine(migrated, poolclass=sa.NullPool)
    migrate.downgrade(engine, "0019")
    engine.dispose()
    names = {row[0] for row in _catalog(migrated)["functions"]}
    assert {n for n in names if n.endswith("_v8")} == set()
    assert {"sysjobs_end_and_claim_v7", "sysjobs_claim_take_v7", "sysjobs_claim_fair_v7"} <= names
    _migrate(migrated)
    _apply_schema_file(from_file)
    expected, found = _catalog(from_file), _catalog(migrated)
    assert {part: rows for part, rows in found.items() if rows != expected[part]} == {}


def test_the_catalog_comparison_sees_a_changed_function_body(
    new_database: Callable[[], str],
) -> None:
    url = new_database()
    _apply_schema_file(url)
    before = _catalog(url)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        source = conn.execute(sa.text(
            "SELECT pg_get_functiondef('sysjobs_claim_batch_v4'::regproc)"
        )).scalar_one()  # fmt: skip
        conn.exec_driver_sql(source.replace("RETURN v_rows;", "RETURN v_rows; -- changed"))
    engine.dispose()
    assert _catalog(url)["functions"] != before["functions"]
    assert {p: r for p, r in _catalog(url).items() if p != "functions"} == {
        p: r for p, r in before.items() if p != "functions"
    }


def _enqueue_as_0007(url: str, job_type: str, count: int) -> list[str]:
    """Enqueue ``count`` jobs as the release at revision 0007 did (its tables' columns: no
    app keys yet), oldest first."""
    ids = [f"5f{i:022x}" for i in range(1, count + 1)]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        for n, job_id in enumerate(ids):
            params = {"id": job_id, "type": job_type, "created": 1_700_000_000_000 + n}
            conn.execute(sa.text(
                "INSERT INTO jobs (id, type, label, status, queue, low_priority, progress, "
                "has_errors, created_ms, data, attempt, lost_count, max_retries) VALUES "
                "(:id, :type, :type, 'PENDING', 'mix', false, 0, false, :created, '{}', 0, 0, 0)"
            ), params)  # fmt: skip
            conn.execute(sa.text("INSERT INTO job_results (job_id) VALUES (:id)"), params)
            conn.execute(sa.text(
                "INSERT INTO job_events (job_id, at_ms, to_status, attempt, reason) "
                "VALUES (:id, :created, 'PENDING', 0, 'enqueued')"
            ), params)  # fmt: skip
    engine.dispose()
    return ids


def _claim_with_0007s_function(url: str, job_type: str) -> dict[str, Any]:
    """Lease one job as a worker of the release before did: ``sysjobs_end_and_claim``."""
    claim = {
        "owner": "w-old-release", "queues": ["mix"], "types": [job_type], "limit": 1,
        "allow_low": True, "aged_before": 0, "now": 1_800_000_000_000, "lease_ms": 600_000,
    }  # fmt: skip
    engine = sa.create_engine(url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        answer = conn.exec_driver_sql(
            "SELECT sysjobs_end_and_claim(%s::json, %s::json, NULL, true)",
            ("[]", json.dumps([claim])),
        ).scalar_one()
    engine.dispose()
    ((row, _results, _checkpoint),) = answer["claimed"][0]
    return dict(row)


def test_a_database_at_0007_with_jobs_upgrades_in_place_and_its_jobs_finish(
    new_database: Callable[[], str],
) -> None:
    url = new_database()
    _migrate(url, "0007")
    ids = _enqueue_as_0007(url, "NOOP", 3)
    running = _claim_with_0007s_function(url, "NOOP")
    assert running["id"] == ids[0] and running["status"] == "RUNNING"

    with open_engine(url, EngineSettings(lease_s=600)) as eng:  # migrates to head
        assert migrate.current_revisions(eng.database.engine) == migrate.head_revisions()
        register(eng)
        # The jobs are unowned until the app that used the database opens it (revision
        # 0010, docs/many-apps.md): no engine sees them, no worker claims them meanwhile.
        assert eng.get(ids[1]) is None
        App.open(eng)
        lease = Lease(running["id"], running["owner"], running["attempt"])
        assert eng.leases.finish(lease, Outcome.COMPLETED) is not None
        with running_pool(eng, concurrency=2):
            ended = eng.wait_all(ids, ["FINISHED"], 60)
    assert [(j.status, j.progress) for j in ended] == [("FINISHED", 100)] * 3
    assert all(j.created_at <= j.started_at <= j.ended_at for j in ended)  # type: ignore[operator]
