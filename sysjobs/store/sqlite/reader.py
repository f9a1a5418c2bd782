"""The CLI's read path on SQLite: the store's reads of jobs through the standard library's
``sqlite3``, without SQLAlchemy (``docs/cli-read-path.md``).

``sysjobs jobs ls`` and ``sysjobs jobs show`` read a page of jobs, a count, a job by id and
its tree's labels and children counts. Importing SQLAlchemy alone costs three times
``node -e``, the bound those commands have (issue 19), so on SQLite they run the store's
statements here, as text: every statement is put together from the pieces of
``read_sql.py``, which ``read_sql_build.py`` compiles from the store's SQLAlchemy statements
(``listing.py``, ``tree.py``, ``jobstore.py``) — the SQL stays written once. A test holds
each statement put together here equal, text and parameters, to the statement the store
runs for the same filter, and the rows equal to the store's.

What a page reads is decided by the store's own plan (``filters.sqlite_page_plan``: the
probe of a start/end range, the unary ``+`` steering). Rows come back as the store hands
them up: a dict per row, JSON columns decoded, booleans as ``bool`` — what SQLAlchemy's
types do on SQLite (``read_sql.DECODED``).

:meth:`SqliteReader.open` answers None unless the database is at the shipped revisions
(``revisions.py``): a fresh, outdated or unreadable database goes the engine's way, which
migrates it or says what is wrong, as before.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sysjobs.store.filters import (
    RANGE_PROBE,
    JobFilter,
    PagePlan,
    Range,
    created_bound_ms,
    sqlite_page_plan,
)  # fmt: skip
from sysjobs.store.revisions import VERSION_QUERY, shipped_heads
from sysjobs.store.sqlite import read_sql as sql

#: A row as the store hands it upward: column name -> value.
Row = dict[str, Any]
#: A statement's text and its parameters, in order.
Statement = tuple[str, list[Any]]
#: The apps a read may see (None: every app).
Apps = Sequence[str] | None

#: Seconds a read waits on a lock (``sqlite.dialect.BUSY_TIMEOUT_S``; a test holds them equal).
BUSY_TIMEOUT_S = 30.0
#: Where SQLAlchemy writes an expanding ``IN``'s values.
_MARKER = re.compile(r"__\[POSTCOMPILE_\w+\]")
#: What the pragmas of the engine's connections are (``sqlite.dialect._on_connect``).
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON")
_DECODERS: dict[str, Callable[[Any], Any]] = {"json": json.loads, "bool": bool}


def expanded(text: str, *lists: Sequence[Any]) -> str:
    """``text`` with its expanding ``IN`` markers, in order, written for ``lists``' lengths
    (one ``?`` a value, as SQLAlchemy writes them when it runs the statement)."""
    sizes = iter(lists)
    return _MARKER.sub(lambda _m: ", ".join("?" * len(next(sizes))), text)


def _app_terms(apps: Apps) -> list[tuple[str, list[Any]]]:
    """``rows.of_app``'s terms."""
    if apps is None:
        return []
    if not apps:
        raise ValueError("a read of no app reads nothing: not written here")
    return [("app", [apps[0]])] if len(apps) == 1 else [("apps", list(apps))]


def _terms(f: JobFilter, plussed: frozenset[str] = frozenset()) -> list[tuple[str, list[Any]]]:
    """``listing._job_where``'s terms, by their names in ``read_sql.TERMS``, with their
    parameters."""

    def name(term: str, column: str) -> str:
        return f"+{term}" if column in plussed else term

    terms = _app_terms(f.apps)
    if f.types:
        terms.append((name("type", "type"), list(f.types)))
    if f.statuses:
        terms.append((name("status", "status"), list(f.statuses)))
    if f.has_errors is not None:
        terms.append((name(f"has_errors={int(f.has_errors)}", "has_errors"), []))
    for column, (low, high) in (("created_ms", f.created), ("started_ms", f.started),
                                ("ended_ms", f.ended)):  # fmt: skip
        if low is not None:
            terms.append((name(f"{column}>=", column), [low]))
        if high is not None:
            terms.append((name(f"{column}<=", column), [high]))
    return terms


def _where(terms: list[tuple[str, list[Any]]]) -> Statement:
    texts = [expanded(sql.TERMS[key], params) for key, params in terms]
    params = [value for _key, values in terms for value in values]
    return (sql.WHERE + sql.AND.join(texts) if texts else ""), params


def page_statement(
    f: JobFilter, plan: PagePlan, after: tuple[int, str] | None, limit: int
) -> Statement:
    """``listing.page_statement``."""
    terms = _terms(f, plan.plussed)
    bound = created_bound_ms(f) if plan.created_bound else None
    if bound is not None:
        terms.append(("created_bound", [bound]))
    if after is not None:
        terms.append(("+after" if plan.plussed_order else "after", list(after)))
    where, params = _where(terms)
    order = sql.ORDER_LIMIT["+" if plan.plussed_order else ""]
    return sql.SELECT_JOB + where + order, [*params, limit, 0]


def count_statement(f: JobFilter) -> Statement:
    """``listing.count_statement``."""
    where, params = _where(_terms(f))
    return sql.COUNT_JOBS + where, params


def probe_statement(column: str, bounds: Range) -> Statement:
    """``listing.probe_statement``."""
    low, high = bounds
    shape = (">=" if low is not None else "") + ("<=" if high is not None else "")
    values = [v for v in (low, high) if v is not None]
    return sql.PROBES[f"{column}{shape}"], [1, *values, RANGE_PROBE, 0]


def job_statement(job_id: str, apps: Apps) -> Statement:
    """``jobstore.job_statement``."""
    where, params = _where([("id", [job_id]), *_app_terms(apps)])
    return sql.SELECT_JOB + where, params


def labels_statement(ids: Sequence[str], apps: Apps) -> Statement:
    """``tree.labels_statement`` (of one app)."""
    wanted = sorted(set(ids))
    (app,) = _app_terms(apps)
    return expanded(sql.LABELS, wanted), [*wanted, *app[1]]


def children_counts_statement(ids: Sequence[str], apps: Apps) -> Statement:
    """``tree.children_counts_statement`` (of one app)."""
    wanted = sorted(set(ids))
    (app,) = _app_terms(apps)
    return expanded(sql.CHILDREN_COUNTS, sql.FINAL, wanted), [*sql.FINAL, 1, 0, *app[1], *wanted]


def plain_sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL, which this reader opens as SQLAlchemy
    would; None for anything else (another database, a driver, query arguments, escapes,
    in memory), which the engine opens."""
    prefix = "sqlite:///"
    path = url.removeprefix(prefix)
    if not url.startswith(prefix) or not path or path == ":memory:" or set("?#%") & set(path):
        return None
    return Path(path)


class SqliteReader:
    """The store's reads of jobs on one SQLite file (see the module's docstring)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    @classmethod
    def open(cls, path: Path) -> SqliteReader | None:
        """A reader of the database at ``path`` when it is at the shipped revisions; None
        otherwise (fresh, outdated, newer, not a database: the engine's way)."""
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error:
            return None
        try:
            for pragma in _PRAGMAS:
                connection.execute(pragma)
            at = {str(row[0]) for row in connection.execute(VERSION_QUERY)}
        except sqlite3.Error:
            connection.close()
            return None
        heads = shipped_heads()
        if heads is None or at != heads:
            connection.close()
            return None
        return cls(connection)

    def close(self) -> None:
        """Release the connection."""
        self.connection.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A deferred transaction, rolled back: one snapshot, never the write lock."""
        self.connection.execute("BEGIN")
        try:
            yield self.connection
        finally:
            self.connection.execute("ROLLBACK")

    def _rows(self, connection: sqlite3.Connection, statement: Statement) -> list[Row]:
        cursor = connection.execute(*statement)
        names = [d[0] for d in cursor.description]
        decoders = [(i, _DECODERS[sql.DECODED[n]]) for i, n in enumerate(names)
                    if n in sql.DECODED]  # fmt: skip
        rows = []
        for values in cursor:
            row = list(values)
            for i, decode in decoders:
                if row[i] is not None:
                    row[i] = decode(row[i])
            rows.append(dict(zip(names, row, strict=True)))
        return rows

    def jobs_page(self, f: JobFilter, after: tuple[int, str] | None, limit: int) -> list[Row]:
        """``ListingStore.jobs_page``."""
        with self._read() as connection:
            plan = sqlite_page_plan(f, lambda c, b: _scalar(connection, probe_statement(c, b)))
            return self._rows(connection, page_statement(f, plan, after, limit))

    def jobs_count(self, f: JobFilter) -> int:
        """``ListingStore.jobs_count``."""
        with self._read() as connection:
            return _scalar(connection, count_statement(f))

    def get_job(self, job_id: str, *, apps: Apps) -> Row | None:
        """``JobStore.get_job``."""
        with self._read() as connection:
            found = self._rows(connection, job_statement(job_id, apps))
        return found[0] if found else None

    def labels(self, ids: Sequence[str], *, apps: Apps) -> dict[str, str | None]:
        """``TreeStore.labels``."""
        if not ids:
            return {}
        with self._read() as connection:
            return {str(i): label for i, label in connection.execute(*labels_statement(ids, apps))}

    def children_counts(self, ids: Sequence[str], *, apps: Apps) -> dict[str, tuple[int, int]]:
        """``TreeStore.children_counts``."""
        if not ids:
            return {}
        with self._read() as connection:
            found = connection.execute(*children_counts_statement(ids, apps))
            return {str(p): (int(n), int(f or 0)) for p, n, f in found}


def _scalar(connection: sqlite3.Connection, statement: Statement) -> int:
    return int(connection.execute(*statement).fetchone()[0])
