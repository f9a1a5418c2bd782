"""Named queries for queue statistics: what a jobs monitor shows at a glance.

Each figure is one aggregate over an index the listing already has (``ix_jobs_pending``,
``ix_jobs_status_created``, ``ix_jobs_ended``, ``ix_job_events_at``), so a dashboard that
polls every second costs a handful of index scans, never a table scan of old jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.schema import job_events, jobs

#: The event reasons the reaper writes when a worker vanished with a job's lease.
LOST_REASONS = ("worker lost", "worker lost; retry")


@dataclass(frozen=True)
class QueueRow:
    """Per queue: jobs waiting, the oldest one's creation time, jobs held by workers."""

    queue: str
    pending: int
    oldest_pending_ms: int | None
    running: int


@dataclass(frozen=True)
class StatsRows:
    """The raw figures; the engine layer turns them into ages and rates."""

    queues: list[QueueRow]
    by_status: dict[str, int]
    finished_since: int
    lost_since: int
    lost_total: int


class StatsStore:
    """Aggregates for ``sysjobs jobs stats`` and the dashboard."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def snapshot(self, since_ms: int) -> StatsRows:
        """Everything in one read snapshot; ``since_ms`` opens the throughput window."""
        with self.db.read() as conn:
            return StatsRows(
                queues=_queues(conn),
                by_status=_by_status(conn),
                finished_since=_ended_since(conn, since_ms),
                lost_since=_lost_since(conn, since_ms),
                lost_total=_lost_total(conn),
            )


def _queues(conn: sa.Connection) -> list[QueueRow]:
    """Pending count and oldest creation per queue (``ix_jobs_pending``), plus leased jobs."""
    pending = conn.execute(
        sa.select(jobs.c.queue, sa.func.count(), sa.func.min(jobs.c.created_ms))
        .where(jobs.c.status == "PENDING")
        .group_by(jobs.c.queue)
    ).all()
    running = conn.execute(
        sa.select(jobs.c.queue, sa.func.count())
        .where(jobs.c.status.in_(("RUNNING", "STOPPING", "CANCELING")))
        .group_by(jobs.c.queue)
    ).all()
    held = {str(q): int(n) for q, n in running}
    rows = {
        str(q): QueueRow(str(q), int(n), oldest, held.get(str(q), 0)) for q, n, oldest in pending
    }
    for queue, count in held.items():
        rows.setdefault(queue, QueueRow(queue, 0, None, count))
    return [rows[q] for q in sorted(rows)]


def _by_status(conn: sa.Connection) -> dict[str, int]:
    """How many jobs are in each status (``ix_jobs_status_created``)."""
    query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
    return {str(status): int(n) for status, n in conn.execute(query)}


def _ended_since(conn: sa.Connection, since_ms: int) -> int:
    """Jobs that reached FINISHED since ``since_ms`` (``ix_jobs_ended``)."""
    query = sa.select(sa.func.count()).where(
        jobs.c.ended_ms >= since_ms, jobs.c.status == "FINISHED"
    )
    return int(conn.execute(query).scalar_one())


def _lost_since(conn: sa.Connection, since_ms: int) -> int:
    """Leases the reaper recovered since ``since_ms`` (``ix_job_events_at``)."""
    query = sa.select(sa.func.count()).where(
        job_events.c.at_ms >= since_ms, job_events.c.reason.in_(LOST_REASONS)
    )
    return int(conn.execute(query).scalar_one())


def _lost_total(conn: sa.Connection) -> int:
    """Every lease ever lost by a worker, summed over the jobs still stored."""
    query = sa.select(sa.func.coalesce(sa.func.sum(jobs.c.lost_count), 0))
    return int(conn.execute(query).scalar_one())
