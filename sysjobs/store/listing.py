"""Named queries for listing: jobs newest first, a job's logs oldest first, and appending logs.

Lists are read in keyset pages (``(created_ms, id) < last`` / ``(ts_ms, id) > last``) so a
cursor held by a script for a long time pins no connection and no snapshot, and a page costs
the same at row 10 and at row 1,000,000. Counts run the same filter without the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from sysjobs.store.database import Database
from sysjobs.store.dialect import Dialect
from sysjobs.store.filters import (  # (JobFilter, CLOCK_SLACK_MS: read from here too)
    CLOCK_SLACK_MS,
    PLANNER,
    RANGE_PROBE,
    JobFilter,
    PagePlan,
    Range,
    created_bound_ms,
    sqlite_page_plan,
)  # fmt: skip
from sysjobs.store.rows import Apps, Row, as_row, fence, job_select, of_app
from sysjobs.store.schema import job_logs, jobs

__all__ = ["CLOCK_SLACK_MS", "RANGE_PROBE", "JobFilter", "ListingStore", "LogFilter"]


@dataclass(frozen=True)
class LogFilter:
    """The logs filters of one job, already validated."""

    job_id: str
    level: str | None = None
    message: str | None = None
    ts: Range = (None, None)
    #: The apps whose lines are read (None: every app, the operator's view).
    apps: Apps = None


def _in_range(column: sa.ColumnElement[Any], bounds: Range) -> list[sa.ColumnElement[bool]]:
    low, high = bounds
    return [
        c
        for c in (
            column >= low if low is not None else None,
            column <= high if high is not None else None,
        )
        if c is not None
    ]


def _same(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return column


def _job_where(
    f: JobFilter, steer: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]] = _same
) -> list[sa.ColumnElement[bool]]:
    """The filter's terms; ``steer`` may wrap a column (in :func:`_plus`) to keep its index
    out of SQLite's choice."""
    where: list[sa.ColumnElement[bool]] = of_app(jobs.c.app, f.apps)
    if f.types:
        where.append(steer(jobs.c.type).in_(f.types))
    if f.statuses:
        where.append(steer(jobs.c.status).in_(f.statuses))
    if f.has_errors is not None:
        where.append(steer(jobs.c.has_errors).is_(f.has_errors))
    where += _in_range(steer(jobs.c.created_ms), f.created)
    where += _in_range(steer(jobs.c.started_ms), f.started)
    where += _in_range(steer(jobs.c.ended_ms), f.ended)
    return where


def _created_bound(f: JobFilter) -> list[sa.ColumnElement[bool]]:
    """``created_ms <= startTo/endTo + slack``: implied, since no job starts or ends before
    it is created.

    A page is read newest-created first along ``ix_jobs_created``; a start/end range is a
    filter on that walk. Without the bound a range two weeks back made PostgreSQL read every
    newer job first (466,000 rows at 1M jobs, ~50 ms) — the planner counts on matches being
    spread evenly. With it the walk starts just after the range's end. Counts do not need it
    (``ix_jobs_started`` / ``ix_jobs_ended`` serve them).
    """
    bound = created_bound_ms(f)
    return [] if bound is None else [jobs.c.created_ms <= bound]


#: A page's order, newest first, and its keyset cursor: ``ix_jobs_created``.
_ORDER_KEY = (jobs.c.created_ms, jobs.c.id)


def _plus(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``+column``: the same value, but SQLite will not use an index for a term written on it
    (its documented way to steer the planner; PostgreSQL never sees it)."""
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _sqlite_page_steering(conn: sa.Connection, f: JobFilter) -> PagePlan:
    """The plan of a SQLite page (``filters.sqlite_page_plan``, which the CLI's read path
    shares): its WHERE and order key (``created_ms, id``, newest first) with a start/end
    range; the planner's own without one.

    SQLite's planner has no histograms (``sqlite_stat1`` only, no ``STAT4`` in Python's
    build): it guesses a two-sided range keeps 1/64 of the table and always prefers reading
    ``ix_jobs_started`` / ``ix_jobs_ended`` and sorting to walking ``ix_jobs_created``, and it
    ignores the ``created_ms <= startTo + 1 h`` bound. At 1M jobs a one-day range (33,000
    jobs) read and sorted that way took ~30 ms; the walk takes 0.4 ms. A forced walk is no
    answer either: a range with 23 matches then reads every older job (100 ms instead of
    0.06). So the page decides itself, from a count of the range's own index stopped at
    :data:`RANGE_PROBE` entries (covering, ~0.05 ms):

    * fewer matches: read that range from its index and sort them (at most 2,000 rows,
      ~1.7 ms at 2,000). Every other term and the ORDER BY get a unary ``+``, so no other
      index (nor the newest-first walk, which the planner takes for ``startFrom`` alone) can
      be picked instead;
    * more: the start/end terms get the ``+``; the planner walks ``ix_jobs_created`` newest
      first from the ``created_ms`` bound, and with that many matches the first page comes
      after few rows — unless the matching jobs were created long before the range with many
      others in between (a backlog days deep), which the bound cannot help on either
      database. Only when the range is the only row filter besides ``createFrom/createTo``:
      with a type, status or hasErrors too, matches can be far rarer than the range
      (``status=RUNNING`` two weeks back: none) and the walk would read every older job
      (110 ms at 1M). There the planner's own choice is kept: the ``(type|status,
      created_ms)`` index below the bound (13 ms for that case, 1.6-2.3 ms when common).

    ``INDEXED BY`` would say the same but fails the statement when the index is missing, and
    SQLAlchemy does not render SQLite table hints.
    """
    return sqlite_page_plan(f, lambda column, bounds: _probe(conn, column, bounds))


def probe_statement(column: str, bounds: Range) -> sa.Select[Any]:
    """How many jobs ``column``'s range holds, counted up to :data:`RANGE_PROBE` over its
    own index (covering)."""
    probe = sa.select(sa.literal(1)).where(*_in_range(jobs.c[column], bounds)).limit(RANGE_PROBE)
    return sa.select(sa.func.count()).select_from(probe.subquery())


def _probe(conn: sa.Connection, column: str, bounds: Range) -> int:
    return int(conn.execute(probe_statement(column, bounds)).scalar_one())


def _planned(f: JobFilter, plan: PagePlan
             ) -> tuple[list[sa.ColumnElement[bool]], Sequence[sa.ColumnElement[Any]]]:  # fmt: skip
    """WHERE and order key of a page read as ``plan`` says."""

    def steer(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return _plus(column) if getattr(column, "name", None) in plan.plussed else column

    where = _job_where(f, steer=steer) + (_created_bound(f) if plan.created_bound else [])
    key = [_plus(k) for k in _ORDER_KEY] if plan.plussed_order else _ORDER_KEY
    return where, key


def page_statement(
    f: JobFilter, plan: PagePlan, after: tuple[int, str] | None, limit: int
) -> sa.Select[Any]:
    """A page of jobs matching ``f``, newest first, after the keyset ``after``."""
    where, key = _planned(f, plan)
    query = job_select().where(*where)
    if after is not None:
        query = query.where(sa.tuple_(*key) < sa.tuple_(*map(sa.literal, after)))
    return query.order_by(*(k.desc() for k in key)).limit(limit)


def count_statement(f: JobFilter) -> sa.Select[Any]:
    """How many jobs match ``f``."""
    return sa.select(sa.func.count()).select_from(jobs).where(*_job_where(f))


def _log_where(f: LogFilter, dialect: Dialect) -> list[sa.ColumnElement[bool]]:
    """The filter's terms; ``message`` contains the text ignoring case, written as the
    dialect's index serves it (see ``contains_ignoring_case``)."""
    where = [job_logs.c.job_id == f.job_id, *of_app(job_logs.c.app, f.apps)]
    if f.level is not None:
        where.append(job_logs.c.level == f.level)
    if f.message:
        where.append(dialect.contains_ignoring_case(job_logs.c.message, f.message))
    return where + _in_range(job_logs.c.ts_ms, f.ts)


class ListingStore:
    """Pages and counts for ``find`` and ``logs``; log appends."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def jobs_page(self, f: JobFilter, after: tuple[int, str] | None, limit: int) -> list[Row]:
        """Newest first; served by ``ix_jobs_created`` or a ``(filter, created_ms)`` index, and
        on SQLite a start/end range as :func:`_sqlite_page_steering` decides."""
        with self.db.read() as conn:
            blind = not self.db.dialect.estimates_ranges()
            plan = _sqlite_page_steering(conn, f) if blind else PLANNER
            return [as_row(r) for r in conn.execute(page_statement(f, plan, after, limit))]

    def jobs_count(self, f: JobFilter) -> int:
        """How many jobs match, ignoring any page size."""
        with self.db.read() as conn:
            return int(conn.execute(count_statement(f)).scalar_one())

    def logs_page(self, f: LogFilter, after: tuple[int, int] | None, limit: int) -> list[Row]:
        """Oldest first; served by ``ix_job_logs_job_ts``, and on PostgreSQL a ``message``
        filter by ``ix_job_logs_message_trgm`` (see :func:`_log_where`)."""
        query = job_logs.select().where(*_log_where(f, self.db.dialect))
        if after is not None:
            query = query.where(
                sa.tuple_(job_logs.c.ts_ms, job_logs.c.id) > sa.tuple_(*map(sa.literal, after))
            )
        query = query.order_by(job_logs.c.ts_ms, job_logs.c.id).limit(limit)
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def logs_count(self, f: LogFilter) -> int:
        """How many logs of the job match, ignoring any page size."""
        where = _log_where(f, self.db.dialect)
        query = sa.select(sa.func.count()).select_from(job_logs).where(*where)
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def append_log(self, job_id: str, entry: Row, *, apps: Apps) -> bool:
        """Append a log from anyone (an ERROR also sets ``has_errors``); False if no job
        (or it is not one of ``apps``)."""
        mine = sa.and_(jobs.c.id == job_id, *of_app(jobs.c.app, apps))
        with self.db.write() as tx:
            if entry["level"] == "ERROR":
                tx.connection.execute(jobs.update().where(mine).values(has_errors=True))
            added = tx.connection.execute(_log_of_job(mine, job_id, entry))
            return added.first() is not None

    def append_log_fenced(self, job_id: str, owner: str, attempt: int, entry: Row) -> bool:
        """Append a log from the lease holder only; INFO logs never touch the job row."""
        with self.db.write() as tx:
            conn = tx.connection
            if entry["level"] == "ERROR":
                flag = jobs.update().where(fence(job_id, owner, attempt)).values(has_errors=True)
                if conn.execute(flag).rowcount == 0:
                    return False
            insert = _log_of_job(fence(job_id, owner, attempt), job_id, entry)
            return conn.execute(insert).first() is not None  # rowcount is -1 on psycopg here


def _log_of_job(job: sa.ColumnElement[bool], job_id: str, entry: Row) -> sa.Insert:
    """Insert ``entry`` as a line of the job matching ``job``, in the job's app; nothing
    when no job matches (``RETURNING`` says which)."""
    source = sa.select(
        jobs.c.app,
        sa.literal(job_id, sa.String()),
        sa.literal(entry["ts_ms"], sa.BigInteger()),
        sa.literal(entry["level"], sa.String()),
        sa.literal(entry["message"], sa.Text()),
        sa.literal(entry.get("additional_info"), sa.JSON()),
    ).where(job)
    columns = ["app", "job_id", "ts_ms", "level", "message", "additional_info"]
    return job_logs.insert().from_select(columns, source).returning(job_logs.c.id)
