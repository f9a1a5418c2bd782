"""What both backends run as the same SQLAlchemy Core: the base of each ``JobBackend``.

Enqueue, heartbeat, the fenced writes, the find/logs pages, recovery and the wake-ups are
one query (or one short write transaction) each, identical on SQLite and PostgreSQL — what
differs inside them (a bulk insert, a planner hint, case-insensitive search, how hints
travel) is a method of the dialect. A backend adds its own claim and end-and-claim:
``SqliteBackend`` (``store/sqlite/leases.py``) and ``PostgresBackend``
(``store/postgres/leases.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sysjobs.store.backend import LeaseKey, Recovery
from sysjobs.store.database import Database
from sysjobs.store.dialect import HintSink
from sysjobs.store.jobstore import JobStore
from sysjobs.store.leases import give_back, recover_one
from sysjobs.store.listing import JobFilter, ListingStore, LogFilter
from sysjobs.store.rows import (
    LEASED,
    Apps,
    Now,
    Row,
    as_row,
    fence,
    last_event_ms,
    of_app,
    stamp,
)
from sysjobs.store.schema import jobs
from sysjobs.store.workers import WorkerBeat, write_beat


class CoreBackend:
    """The verbs of ``JobBackend`` written once; a subclass adds ``claim`` and ``finish``."""

    def __init__(self, db: Database, now: Now) -> None:
        self.db = db
        #: The engine's clock, read inside each write transaction.
        self.now = now
        self._jobs = JobStore(db, now=now)
        self._listing = ListingStore(db)

    def insert_jobs(
        self, rows: Sequence[Mapping[str, Any]], *, reason: str | None = None
    ) -> list[Row]:
        """See ``JobBackend.insert_jobs``."""
        return self._jobs.insert_jobs(rows, reason=reason)

    def give_back(self, leases: Sequence[LeaseKey]) -> list[Row]:
        """See ``JobBackend.give_back``: one short write transaction, its time read under
        the write lock (rare: a claim that raced a stop of its app)."""
        if not leases:
            return []
        with self.db.write() as tx:
            return give_back(tx, leases, self.now())

    def heartbeat(
        self, owner: str, lease_ms: int, *, job_ids: Collection[str] | None = None,
        worker: WorkerBeat | None = None,
    ) -> list[Row]:
        """Extend the leases ``owner`` holds (of ``job_ids`` only, when given); returns
        id/attempt/status/force_at of each. ``worker``: the pool's registry row, refreshed
        in the same transaction (one write per heartbeat)."""
        held = [jobs.c.owner == owner, jobs.c.status.in_(LEASED)]
        if job_ids is not None:
            held.append(jobs.c.id.in_(list(job_ids)))
        # Locked in id order, as the group commit locks the rows it ends: two writers
        # that lock overlapping rows in different orders deadlock (they did, once the
        # ends were locked by id and this UPDATE in the table's order).
        locked = (
            sa.select(jobs.c.id).where(*held).order_by(jobs.c.id).with_for_update()
            .cte("held").prefix_with("MATERIALIZED", dialect="postgresql")
        )  # fmt: skip
        update = (
            jobs.update()
            .where(jobs.c.id.in_(sa.select(locked.c.id)))
            .values(lease_expires_ms=sa.bindparam("now", type_=sa.BigInteger()) + lease_ms)
            .returning(jobs.c.id, jobs.c.attempt, jobs.c.status, jobs.c.force_at_ms)
        )
        with self.db.write() as tx:
            now = self.now()
            leases = [as_row(r) for r in tx.connection.execute(update, {"now": now})]
            if worker is not None:
                write_beat(tx.connection, worker, now)
            return leases

    def lease_status(self, job_id: str, owner: str, attempt: int) -> Row | None:
        """Status and force deadline of a job if the lease still holds, else None."""
        query = sa.select(jobs.c.status, jobs.c.force_at_ms).where(
            fence(job_id, owner, attempt), jobs.c.status.in_(LEASED)
        )
        with self.db.read() as conn:
            found = conn.execute(query).first()
        return as_row(found) if found is not None else None

    def set_progress(self, job_id: str, owner: str, attempt: int, progress: int) -> bool:
        """Write progress if the lease holds (the heartbeat path; no event, no hint)."""
        with self.db.write() as tx:
            done = tx.connection.execute(
                jobs.update().where(fence(job_id, owner, attempt)).values(progress=progress)
            )
            return done.rowcount > 0

    def append_log_fenced(self, job_id: str, owner: str, attempt: int, entry: Row) -> bool:
        """See ``JobBackend.append_log_fenced``."""
        return self._listing.append_log_fenced(job_id, owner, attempt, entry)

    def write_result_fields(
        self, job_id: str, owner: str, attempt: int, values: Mapping[str, Any]
    ) -> bool:
        """See ``JobBackend.write_result_fields``."""
        return self._jobs.write_result_fields(job_id, owner, attempt, values)

    def write_chunk(
        self, job_id: str, owner: str, attempt: int, entries: Sequence[Row],
        values: Mapping[str, Any],
    ) -> bool:  # fmt: skip
        """See ``JobBackend.write_chunk``."""
        return self._jobs.write_chunk(job_id, owner, attempt, entries, values)

    def append_log(self, job_id: str, entry: Row, *, apps: Apps) -> bool:
        """See ``JobBackend.append_log``."""
        return self._listing.append_log(job_id, entry, apps=apps)

    def jobs_page(self, f: JobFilter, after: tuple[int, str] | None, limit: int) -> list[Row]:
        """See ``JobBackend.jobs_page``."""
        return self._listing.jobs_page(f, after, limit)

    def jobs_count(self, f: JobFilter) -> int:
        """See ``JobBackend.jobs_count``."""
        return self._listing.jobs_count(f)

    def logs_page(self, f: LogFilter, after: tuple[int, int] | None, limit: int) -> list[Row]:
        """See ``JobBackend.logs_page``."""
        return self._listing.logs_page(f, after, limit)

    def logs_count(self, f: LogFilter) -> int:
        """See ``JobBackend.logs_count``."""
        return self._listing.logs_count(f)

    def recover(
        self,
        decide: Callable[[Row], Recovery],
        *,
        expired_before_ms: int | None = None,
        owner: str | None = None,
        limit: int = 100,
        apps: Apps = None,
    ) -> list[Row]:
        """Take back leases that expired (or all of one dead ``owner``) of jobs of ``apps``
        (None: of any app); ``decide`` says how."""
        where = [jobs.c.owner.is_not(None), jobs.c.status.in_(LEASED), *of_app(jobs.c.app, apps)]
        if expired_before_ms is not None:
            where.append(jobs.c.lease_expires_ms < expired_before_ms)
        if owner is not None:
            where.append(jobs.c.owner == owner)
        query = (
            sa.select(*jobs.c, last_event_ms())
            .where(*where).limit(limit).with_for_update(skip_locked=True)
        )  # fmt: skip
        with self.db.write() as tx:
            lost = [as_row(r) for r in tx.connection.execute(query)]
            now = self.now()
            for row in lost:
                decision = decide(row)
                at = stamp(now, row["created_ms"], row["started_ms"], row.pop("last_event_ms"))
                recover_one(tx.connection, row, decision, at)
                tx.hint(f"job:{row['id']}", *(["work"] if decision[0] == "PENDING" else []))
        return lost

    def listen(self, sink: HintSink) -> None:
        """See ``JobBackend.listen``."""
        self.db.listen(sink)

    def poll_interval(self, idle_rounds: int) -> float:
        """See ``JobBackend.poll_interval``."""
        return self.db.poll_interval(idle_rounds)
