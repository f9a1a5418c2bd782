"""Empty a test database between tests, instead of opening a new one for each.

A module whose tests each want "a new empty database" can share one database, one engine
on it and one sandbox over that engine (``tests/conformance/conftest.py``): opening those
per test was most of a short test's CPU (an engine, a V8 context and its bootstrap, and on
PostgreSQL a database taken from the pool, emptied and compared with the template after).
Before each test, :meth:`Emptier.empty` takes the database back to what a new one holds:

- every table but ``alembic_version`` emptied (the migrated template holds no other row);
  on PostgreSQL with ``DELETE`` (:data:`EMPTY_PG`) and every sequence a test moved set back
  to its start, so ids start again as in a new database. ``TRUNCATE`` (what the pool uses
  when a database comes back, ``tests/pgdatabases.py``) makes new files for each table it
  empties: ~0.1 s a test while the machine is busy, against ~0.01 s for deleting the few
  rows a test leaves. Deleting keeps the tables' pages until the module gives the database
  back (truncated then); a table past :data:`TRUNCATE_PAST_BYTES` is truncated at once, so a
  test that wrote many rows leaves no bloat for the next. No test on a shared database
  asserts a query plan (those keep a database of their own). SQLite has no sequence table
  (no ``AUTOINCREMENT``): an emptied table numbers its rows from 1 again;
- then it checks that every table is empty, that the migration version is the template's,
  and, on PostgreSQL, that no other session on the database is running a statement or is
  inside a transaction (nothing a test started is still at work); any of these failing fails
  the next test loudly rather than letting it read what an earlier test left.

What a shared database cannot undo — a schema changed, a revision downgraded — is still
caught when the module gives the database back to the pool (its fingerprint is compared
with the template's). Tests that change the schema, or leave processes running, keep a
database of their own (``db_url`` of ``tests/conftest.py``).
"""

from __future__ import annotations

import sqlalchemy as sa

#: Tables whose rows come from the migrations (kept).
KEPT = frozenset({"alembic_version"})
#: A table at least this large is truncated rather than deleted from (see the docstring).
TRUNCATE_PAST_BYTES = 1 << 20
#: Empty every table but the kept ones, in one statement. ``session_replication_role =
#: replica`` (the test cluster's user is a superuser) lets the rows go in any order, as
#: ``TRUNCATE … CASCADE`` did, and fires no row trigger (no NOTIFY to the module's engines);
#: then every sequence a test moved starts again (``RESTART IDENTITY``).
EMPTY_PG = f"""
DO $$
DECLARE t record;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOR t IN SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name
             FROM pg_tables
            WHERE schemaname = 'public' AND tablename NOT IN ({", ".join(f"'{k}'" for k in sorted(KEPT))})
              AND pg_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename)) > 0
  LOOP
    IF pg_relation_size(t.name) >= {TRUNCATE_PAST_BYTES} THEN
      EXECUTE 'TRUNCATE ' || t.name || ' CASCADE';
    ELSE
      EXECUTE 'DELETE FROM ' || t.name;
    END IF;
  END LOOP;
  PERFORM setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value, false)
     FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL;
END $$
"""
#: Sessions on this PostgreSQL database that are not idle (running, or inside a transaction).
BUSY_SESSIONS = """
SELECT count(*) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'
"""


class Emptier:
    """Empties the database at ``url`` (one connection, reused) and checks it is empty."""

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(url, pool_size=1)
        self._postgres = self._engine.dialect.name == "postgresql"
        with self._engine.connect() as conn:
            self._tables = sorted(set(sa.inspect(conn).get_table_names()) - KEPT)
            self._version = self._version_of(conn)

    def empty(self) -> None:
        """Take the database back to a new one's rows; fail if anything else remains."""
        with self._engine.begin() as conn:
            if self._postgres:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")  # a lock left held
                conn.exec_driver_sql(EMPTY_PG)
            else:
                for table in self._tables:
                    conn.exec_driver_sql(f'DELETE FROM "{table}"')
        self._check()

    def _check(self) -> None:
        counts = " UNION ALL ".join(
            f"SELECT '{t}', count(*) FROM \"{t}\"" for t in self._tables
        )
        with self._engine.connect() as conn:
            left = {str(r[0]): int(r[1]) for r in conn.exec_driver_sql(counts) if r[1]}
            assert not left, f"rows left in the shared test database: {left}"
            assert self._version_of(conn) == self._version, "the migration version changed"
            if self._postgres:
                busy = conn.exec_driver_sql(BUSY_SESSIONS).scalar_one()
                assert busy == 0, f"{busy} sessions still at work on the shared test database"

    @staticmethod
    def _version_of(conn: sa.Connection) -> list[str]:
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version")
        return sorted(str(r[0]) for r in rows)

    def close(self) -> None:
        self._engine.dispose()
