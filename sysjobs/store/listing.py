"""Named queries for listing: jobs newest first, a job's logs oldest first, and appending logs.

Lists are read in keyset pages (``(created_ms, id) < last`` / ``(ts_ms, id) > last``) so a
cursor held by a script for a long time pins no connection and no snapshot, and a page costs
the same at row 10 and at row 1,000,000. Counts run the same filter without the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.rows import Row, as_row, fence, job_select
from sysjobs.store.schema import job_logs, jobs

#: An inclusive millisecond range; either end may be open.
Range = tuple[int | None, int | None]


@dataclass(frozen=True)
class JobFilter:
    """The find filters, already validated: empty tuples / None mean "any"."""

    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    created: Range = (None, None)
    started: Range = (None, None)
    ended: Range = (None, None)
    has_errors: bool | None = None


@dataclass(frozen=True)
class LogFilter:
    """The logs filters of one job, already validated."""

    job_id: str
    level: str | None = None
    message: str | None = None
    ts: Range = (None, None)


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


def _job_where(f: JobFilter) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if f.types:
        where.append(jobs.c.type.in_(f.types))
    if f.statuses:
        where.append(jobs.c.status.in_(f.statuses))
    if f.has_errors is not None:
        where.append(jobs.c.has_errors.is_(f.has_errors))
    where += _in_range(jobs.c.created_ms, f.created)
    where += _in_range(jobs.c.started_ms, f.started)
    where += _in_range(jobs.c.ended_ms, f.ended)
    return where


#: How far the clocks of two hosts may disagree about one job (created on one, started or
#: ended on another). Leases already assume they agree to well within a lease (30 s).
CLOCK_SLACK_MS = 3_600_000
_BIGINT_END = 2**63  # a bound past BIGINT is no bound: leave it out rather than overflow


def _created_bound(f: JobFilter) -> list[sa.ColumnElement[bool]]:
    """``created_ms <= startTo/endTo + slack``: implied, since no job starts or ends before
    it is created.

    A page is read newest-created first along ``ix_jobs_created``; a start/end range is a
    filter on that walk. Without the bound a range two weeks back made PostgreSQL read every
    newer job first (466,000 rows at 1M jobs, ~50 ms) — the planner counts on matches being
    spread evenly. With it the walk starts just after the range's end. Counts do not need it
    (``ix_jobs_started`` / ``ix_jobs_ended`` serve them).
    """
    highs = [high for _, high in (f.started, f.ended) if high is not None]
    if not highs or min(highs) + CLOCK_SLACK_MS >= _BIGINT_END:
        return []
    return [jobs.c.created_ms <= min(highs) + CLOCK_SLACK_MS]


def _log_where(f: LogFilter) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [job_logs.c.job_id == f.job_id]
    if f.level is not None:
        where.append(job_logs.c.level == f.level)
    if f.message:
        where.append(job_logs.c.message.icontains(f.message, autoescape=True))
    return where + _in_range(job_logs.c.ts_ms, f.ts)


class ListingStore:
    """Pages and counts for ``find`` and ``logs``; log appends."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def jobs_page(self, f: JobFilter, after: tuple[int, str] | None, limit: int) -> list[Row]:
        """Newest first; served by ``ix_jobs_created`` or a ``(filter, created_ms)`` index."""
        query = job_select().where(*_job_where(f), *_created_bound(f))
        if after is not None:
            query = query.where(
                sa.tuple_(jobs.c.created_ms, jobs.c.id) < sa.tuple_(*map(sa.literal, after))
            )
        query = query.order_by(jobs.c.created_ms.desc(), jobs.c.id.desc()).limit(limit)
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def jobs_count(self, f: JobFilter) -> int:
        """How many jobs match, ignoring any page size."""
        query = sa.select(sa.func.count()).select_from(jobs).where(*_job_where(f))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def logs_page(self, f: LogFilter, after: tuple[int, int] | None, limit: int) -> list[Row]:
        """Oldest first; served by ``ix_job_logs_job_ts``, and on PostgreSQL a ``message``
        filter by ``ix_job_logs_message_trgm`` (``icontains`` is sent as the ILIKE it serves)."""
        query = job_logs.select().where(*_log_where(f))
        if after is not None:
            query = query.where(
                sa.tuple_(job_logs.c.ts_ms, job_logs.c.id) > sa.tuple_(*map(sa.literal, after))
            )
        query = query.order_by(job_logs.c.ts_ms, job_logs.c.id).limit(limit)
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def logs_count(self, f: LogFilter) -> int:
        """How many logs of the job match, ignoring any page size."""
        query = sa.select(sa.func.count()).select_from(job_logs).where(*_log_where(f))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def append_log(self, job_id: str, entry: Row) -> bool:
        """Append a log from anyone (an ERROR also sets ``has_errors``); False if no job."""
        with self.db.write() as tx:
            flag = jobs.update().where(jobs.c.id == job_id)
            if entry["level"] == "ERROR":
                done = tx.connection.execute(flag.values(has_errors=True)).rowcount
            else:
                done = tx.connection.execute(
                    sa.select(sa.func.count()).select_from(jobs).where(jobs.c.id == job_id)
                ).scalar_one()
            if not done:
                return False
            tx.connection.execute(job_logs.insert(), [{"job_id": job_id, **entry}])
        return True

    def append_log_fenced(self, job_id: str, owner: str, attempt: int, entry: Row) -> bool:
        """Append a log from the lease holder only; INFO logs never touch the job row."""
        with self.db.write() as tx:
            conn = tx.connection
            if entry["level"] == "ERROR":
                flag = jobs.update().where(fence(job_id, owner, attempt)).values(has_errors=True)
                if conn.execute(flag).rowcount == 0:
                    return False
                conn.execute(job_logs.insert(), [{"job_id": job_id, **entry}])
                return True
            held = sa.exists().where(fence(job_id, owner, attempt))
            source = sa.select(
                sa.literal(job_id, sa.String()),
                sa.literal(entry["ts_ms"], sa.BigInteger()),
                sa.literal(entry["level"], sa.String()),
                sa.literal(entry["message"], sa.Text()),
                sa.literal(entry.get("additional_info"), sa.JSON()),
            ).where(held)
            columns = ["job_id", "ts_ms", "level", "message", "additional_info"]
            insert = job_logs.insert().from_select(columns, source).returning(job_logs.c.id)
            return conn.execute(insert).first() is not None  # rowcount is -1 on psycopg here
