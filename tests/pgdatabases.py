"""Fresh, migrated PostgreSQL databases for tests, reused instead of re-created.

``CREATE DATABASE … TEMPLATE`` copies the template's files and, with ``FILE_COPY``, forces
two checkpoints of the whole cluster: 0.1 s on a quiet machine, 0.3 to 0.4 s while the other
test process writes — the largest part of a short PostgreSQL test's time. A database a
test has finished with is instead emptied and handed to the next test:

1. every session still connected to it is terminated, waiting until each has exited
   (``pg_terminate_backend(pid, timeout)``), and it is renamed to a new name — a process a
   test left behind can never reach the next test's database, as with a dropped one;
2. every table but ``alembic_version`` is truncated (``RESTART IDENTITY``: owned sequences
   restart, and the planner's page counts return to those of a new table);
3. its fingerprint — schema objects, function bodies, extensions, settings, sequence
   positions, planner statistics, the migration version — must equal the template's.
   Anything a test changed that emptying does not undo (a table added, a revision
   downgraded, an ``ANALYZE``) makes it differ, and that database is dropped instead.

The test cluster runs with ``autovacuum=off`` (``tests/conftest.py``), so no statistics
appear in a database behind the fingerprint's back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from psycopg.conninfo import make_conninfo

#: What a database holds beyond its rows, as one text (its md5 is compared).
FINGERPRINT = """
SELECT md5(string_agg(line, E'\\n' ORDER BY line)) FROM (
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(c.reloptions::text, '')
         || CASE WHEN c.relkind IN ('r', 'p', 'm', 't')
                 THEN ' ' || c.relpages || ' ' || c.reltuples ELSE '' END AS line
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT 'col ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'idx ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'fn ' || p.oid::regprocedure || ' ' || md5(p.prosrc) || ' ' || coalesce(p.proconfig::text, '')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'trg ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'type ' || t.typname || ' ' || coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
         FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'ns ' || nspname FROM pg_namespace
  UNION ALL
  SELECT 'ext ' || extname || ' ' || extversion FROM pg_extension
  UNION ALL
  SELECT 'seq ' || schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, '-')
    FROM pg_sequences
  UNION ALL
  SELECT 'stats ' || count(*) FROM pg_statistic s JOIN pg_class c ON c.oid = s.starelid
   WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'setting ' || coalesce(setconfig::text, '') FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL
  SELECT 'prepared ' || gid FROM pg_prepared_xacts WHERE database = current_database()
  UNION ALL
  SELECT 'version ' || version_num FROM alembic_version
) AS everything
"""

#: Every table but the migration version that holds a page, emptied in one statement (an
#: untouched table has no page; truncating it too would double the time, new files each).
TRUNCATE = """
DO $$
DECLARE tables text;
BEGIN
  SELECT string_agg(quote_ident(schemaname) || '.' || quote_ident(tablename), ', ') INTO tables
    FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'
     AND pg_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename)) > 0;
  IF tables IS NOT NULL THEN
    EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
  END IF;
END $$
"""


class PgDatabases:
    """Hands out empty migrated databases cloned from ``template`` on one server, and takes
    them back (see the module docstring). One per test session (per xdist process)."""

    def __init__(self, url: Callable[[str], str], template: str) -> None:
        self._url = url
        self._template = template
        self._admin = sa.create_engine(url("postgres"), isolation_level="AUTOCOMMIT")
        #: Emptied databases, ready for the next test.
        self._free: list[str] = []
        # The template's fingerprint, read on a first clone (a file copy: the same catalog,
        # statistics and sequences): a session on the template itself would make another
        # test process's ``CREATE DATABASE … TEMPLATE`` on the shared cluster
        # (``tests/pgshared.py``) fail while it lasts.
        first = self.take()
        self._fingerprint = self._fingerprint_of(first)
        self._free.append(first)

    def take(self) -> str:
        """The name of an empty migrated database that no one else uses."""
        if self._free:
            return self._free.pop()
        name = _new_name()
        with self._admin.connect() as conn:
            conn.exec_driver_sql(
                f'CREATE DATABASE "{name}" TEMPLATE "{self._template}" STRATEGY FILE_COPY'
            )
        return name

    def give_back(self, name: str) -> None:
        """Empty ``name`` for the next test, or drop it when emptying cannot undo the test."""
        renamed = self._detach(name)
        if renamed is not None and self._reset(renamed):
            self._free.append(renamed)
            return
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{renamed or name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop the databases kept for reuse."""
        with self._admin.connect() as conn:
            for name in self._free:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._free.clear()
        self._admin.dispose()

    def _detach(self, name: str) -> str | None:
        """End every session on ``name`` and rename it; None if a session came back."""
        renamed = _new_name()
        with self._admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            try:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" RENAME TO "{renamed}"')
            except sa.exc.OperationalError:  # "being accessed by other users": a reconnect
                return None
        return renamed

    def _reset(self, name: str) -> bool:
        """Truncate ``name``'s tables; whether it now looks exactly like the template.

        A plain psycopg session, not an SQLAlchemy engine: a new engine's first connection
        asks the server for its version and settings before anything else, which cost the
        server ~2-5 ms and the test process ~1.5 ms of CPU a database given back."""
        try:  # one session for both: a second would start (and warm) a server process again
            with psycopg.connect(_conninfo(self._url(name)), autocommit=True) as conn:
                with conn.transaction():
                    conn.execute("SET LOCAL lock_timeout = '10s'")  # a lock left held
                    conn.execute(TRUNCATE)
                return self._fingerprint_with(conn) == self._fingerprint
        except psycopg.Error:
            return False  # e.g. alembic_version dropped: not reusable

    def _fingerprint_of(self, name: str) -> str:
        with psycopg.connect(_conninfo(self._url(name)), autocommit=True) as conn:
            return self._fingerprint_with(conn)

    @staticmethod
    def _fingerprint_with(conn: psycopg.Connection[tuple[object, ...]]) -> str:
        row = conn.execute(FINGERPRINT).fetchone()
        assert row is not None
        return str(row[0])


def _conninfo(url: str) -> str:
    """psycopg's connection string for an SQLAlchemy URL (the server's socket folder and
    port are in its query, ``bench/pgcluster.py``)."""
    parsed = sa.engine.make_url(url)
    given = {"dbname": parsed.database, "user": parsed.username, "password": parsed.password,
             "host": parsed.host, "port": parsed.port, **parsed.query}  # fmt: skip
    return make_conninfo(**{key: str(value) for key, value in given.items() if value is not None})


def _new_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"
