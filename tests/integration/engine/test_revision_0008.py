"""Revision 0008 on PostgreSQL: a database at 0007 upgrades to lease functions that keep a
job's times in order, and downgrades to 0007's functions exactly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.jobs import EngineSettings, Outcome, new_owner
from sysjobs.store import migrate
from sysjobs.store.postgres.sql import statements
from tests.integration.engine.helpers import ManualClock, open_engine

pytestmark = pytest.mark.postgres


def _functions(name: str) -> dict[str, str]:
    """The frozen ``.sql`` file of a revision as {function name: its CREATE statement}."""
    claim_batch, end_and_claim = statements(name)
    return {"sysjobs_claim_batch": claim_batch, "sysjobs_end_and_claim": end_and_claim}


@pytest.fixture
def url_at_0007(pg_server: Any) -> Iterator[str]:
    """A new database migrated to revision 0007 only."""
    name = f"r_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(pg_server.url(name), poolclass=sa.NullPool)
    migrate.upgrade(engine, "0007")
    try:
        yield pg_server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sources(url: str) -> dict[str, str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT proname, prosrc FROM pg_proc WHERE proname IN "
            "('sysjobs_claim_batch', 'sysjobs_end_and_claim')"
        ))  # fmt: skip
        return {r.proname: r.prosrc for r in rows}


def _body(sql: str) -> str:
    return sql.split("$fn$")[1]


def test_upgrading_from_0007_makes_claims_and_ends_clamp_their_times(url_at_0007: str) -> None:
    old = _functions("0007_lease.sql")
    assert _sources(url_at_0007)["sysjobs_claim_batch"] == _body(old["sysjobs_claim_batch"])
    migrate.upgrade(sa.create_engine(url_at_0007, poolclass=sa.NullPool), "0008")
    new = _functions("0008_lease.sql")
    assert _sources(url_at_0007) == {name: _body(sql) for name, sql in new.items()}
    clock = ManualClock()
    with open_engine(url_at_0007, EngineSettings(lease_s=300, clock=clock)) as eng:
        job = eng.enqueue("NOOP", {})
        clock.advance(-60_000)
        (claim,) = eng.leases.claim(new_owner(), limit=1)
        clock.advance(-60_000)
        eng.leases.finish(claim.lease, Outcome.COMPLETED)
        row = eng.store.get_job(job.id, apps=eng.apps)
    assert row is not None
    assert row["created_ms"] == row["started_ms"] == row["ended_ms"]


def test_downgrading_from_head_to_0007_puts_back_0007s_functions(url_at_0007: str) -> None:
    engine = sa.create_engine(url_at_0007, poolclass=sa.NullPool)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0007")
    old = _functions("0007_lease.sql")
    assert _sources(url_at_0007) == {name: _body(sql) for name, sql in old.items()}
    assert migrate.current_revisions(engine) == {"0007"}
