"""A database one app used before apps had keys upgrades in place: revision 0010 marks its
rows unowned, and the first app that opens it takes them, at once and only once. The app
after it (another name) finds none of them. Both databases."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.app.status import EndpointStatus
from sysjobs.errors import NotFound
from sysjobs.jobs.apps import UNOWNED as JOBS_UNOWNED
from sysjobs.store import app_misc, migrate
from sysjobs.store.app_misc import APP_KEYED_TABLES, UNOWNED, UNOWNED_MARKER, AppMiscStore
from sysjobs.store.database import Database
from tests.integration.apps.conftest import Apps

RECORD = "5f0000000000000000000001"
JOB = "5f00000000000000000000aa"
FILE = "5f0000000000000000000f01"
USER = "5f0000000000000000000e01"
#: The last revision before app keys.
BEFORE = "0009"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url_before_keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database at revision 0009 (the last before app keys), holding one app's rows."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        _fill_before_keys(url)
        yield url
        return
    server: Any = request.getfixturevalue("pg_server")
    name = f"u_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _fill_before_keys(server.url(name))
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fill_before_keys(url: str) -> None:
    """Migrate to the last revision before app keys and write rows as sysjobs did then (no ``app`` columns)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    migrate.upgrade(engine, BEFORE)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    data = json.dumps({"name": "Old Co", "type": "a"})
    statements = [
        ("INSERT INTO app_records (id, entity, label, data, version, created_at, updated_at) "
         "VALUES (:id, 'companies', 'Old Co', :data, 1, :now, :now)",
         {"id": RECORD, "data": data, "now": now}),
        ("INSERT INTO app_users (id, email, first_name, last_name, created_at) "
         "VALUES (:id, 'old@example.com', 'Old', 'User', :now)", {"id": USER, "now": now}),
        ("INSERT INTO app_files (id, name, content_type, content, size, created_at) "
         "VALUES (:id, 'old.csv', 'text/csv', :content, 3, :now)",
         {"id": FILE, "content": b"a\nb", "now": now}),
        ("INSERT INTO app_endpoints (name, status, updated_at) VALUES ('hello', 'DEPLOYED', :now)",
         {"now": now}),
        ("INSERT INTO app_state (name, status, updated_at) VALUES ('old:seeded', 'DONE', :now)",
         {"now": now}),
        ("INSERT INTO jobs (id, type, label, status, queue, low_priority, progress, has_errors, "
         "created_ms, data, attempt, lost_count, max_retries) VALUES (:id, 'RUN_SCRIPT', 'old', "
         "'FINISHED', 'mix', false, 100, false, 1, '{}', 1, 0, 0)", {"id": JOB}),
        ("INSERT INTO job_results (job_id) VALUES (:id)", {"id": JOB}),
        ("INSERT INTO job_events (job_id, at_ms, to_status, attempt) "
         "VALUES (:id, 1, 'PENDING', 0)", {"id": JOB}),
        ("INSERT INTO job_logs (job_id, ts_ms, level, message) VALUES (:id, 1, 'INFO', 'old')",
         {"id": JOB}),
    ]  # fmt: skip
    with engine.begin() as conn:
        for sql, params in statements:
            conn.execute(sa.text(sql), params)
    engine.dispose()


def _apps_of(url: str) -> dict[str, set[str]]:
    """Each app-keyed table's distinct keys."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return {t.name: set(conn.execute(sa.select(t.c.app).distinct()).scalars())
                    for t in APP_KEYED_TABLES}  # fmt: skip
    finally:
        engine.dispose()


def test_the_sentinels_agree() -> None:
    import importlib.util

    assert UNOWNED == JOBS_UNOWNED == app_misc.UNOWNED == ""
    path = migrate.MIGRATIONS / "versions" / "0010_app_key.py"
    spec = importlib.util.spec_from_file_location("sysjobs_test_0010", path)
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    assert revision.MARKER == UNOWNED_MARKER
    assert {t.name for t in APP_KEYED_TABLES} == {
        *revision.ADDED_TO, "app_users", "app_endpoints", "app_state"
    }


def test_upgrade_marks_existing_rows_unowned_until_an_app_opens(url_before_keys: str) -> None:
    db = Database(url_before_keys, hints=False)
    try:
        db.migrate()
    finally:
        db.close()
    keys = _apps_of(url_before_keys)
    assert all(found == {UNOWNED} for found in keys.values()), keys


def test_the_first_app_to_open_an_upgraded_database_owns_its_rows(
    url_before_keys: str, tmp_path: Path
) -> None:
    apps = Apps(url_before_keys, tmp_path)
    try:
        a = apps.open("old")
        assert a.records.find_by_id("companies", RECORD) is not None
        assert a.records.count("companies", {"name": "Old Co"}) == 1
        assert "old@example.com" in {u.email for u in a.users.all()}
        assert a.files.get(FILE).content == b"a\nb"
        assert a.status.endpoint("hello") is EndpointStatus.DEPLOYED
        # The old app's seed marker came along: it is not seeded a second time.
        assert a.records.count("companies", {}) == 1
        keys = _apps_of(url_before_keys)
        assert all(found == {"old"} for name, found in keys.items()), keys
        assert a.engine.require(JOB).label == "old"
    finally:
        apps.close()


def test_an_app_opening_after_the_first_finds_none_of_the_old_rows(
    url_before_keys: str, tmp_path: Path
) -> None:
    apps = Apps(url_before_keys, tmp_path)
    try:
        apps.open("old")
        b = apps.open("newcomer")
        assert b.records.find_by_id("companies", RECORD) is None
        assert b.records.count("companies", {"name": "Old Co"}) == 0
        assert "old@example.com" not in {u.email for u in b.users.all()}
        with pytest.raises(NotFound):
            b.files.get(FILE)
        assert b.status.endpoint("hello") is EndpointStatus.UNDEPLOYED
        assert b.records.count("companies", {}) == 5  # its own seed, loaded into itself
        assert _apps_of(url_before_keys)["jobs"] == {"old"}
    finally:
        apps.close()


def test_unowned_rows_are_claimed_once_by_one_of_two_racing_apps(url_before_keys: str) -> None:
    db = Database(url_before_keys, hints=False)
    try:
        db.migrate()
        stores = [AppMiscStore(db, "left"), AppMiscStore(db, "right")]
        start = threading.Barrier(2)
        won: dict[str, bool] = {}

        def claim(store: AppMiscStore) -> None:
            start.wait()
            won[store.app] = store.claim_unowned()

        threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(won.values()) == [False, True]
        winner = next(name for name, took in won.items() if took)
        assert all(found == {winner} for found in _apps_of(url_before_keys).values())
        assert not stores[0].claim_unowned() and not stores[1].claim_unowned()
    finally:
        db.close()


def test_a_fresh_database_has_nothing_to_claim(db_url: str) -> None:
    db = Database(db_url, hints=False)
    try:
        with db.read() as conn:
            marker = conn.execute(sa.text(
                "SELECT count(*) FROM app_state WHERE app = :u AND name = :m"
            ), {"u": UNOWNED, "m": UNOWNED_MARKER}).scalar_one()  # fmt: skip
        assert marker == 0
        assert AppMiscStore(db, "first").claim_unowned() is False
    finally:
        db.close()


def test_revision_0010_downgrades_to_one_app_per_database(url_before_keys: str) -> None:
    engine = sa.create_engine(url_before_keys, poolclass=sa.NullPool)
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, BEFORE)
        assert migrate.current_revisions(engine) == {BEFORE}
        with engine.connect() as conn:
            assert "app" not in {c["name"] for c in sa.inspect(conn).get_columns("jobs")}
            label = conn.execute(sa.text("SELECT label FROM app_records")).scalar_one()
        assert label == "Old Co"
        migrate.upgrade(engine)
        assert migrate.current_revisions(engine) == migrate.head_revisions()
    finally:
        engine.dispose()
