"""Named queries for queue statistics: what a jobs monitor shows at a glance.

Each figure is one aggregate over an index the listing already has (``ix_jobs_app_pending_order``,
``ix_jobs_status_created``, ``ix_jobs_ended``, ``ix_job_events_at``), so a dashboard that
polls every second costs a handful of index scans, never a table scan of old jobs.
Every figure counts the jobs of the apps asked for (``apps``; None: every app's, what an
operator sees).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.rows import Apps, Row, as_row, job_select, of_app
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

    def snapshot(self, since_ms: int, *, apps: Apps = None) -> StatsRows:
        """Everything in one read snapshot; ``since_ms`` opens the throughput window.
        Only jobs of ``apps`` count (None: every app's, the operator's view)."""
        with self.db.read() as conn:
            return StatsRows(
                queues=_queues(conn, apps),
                by_status=_by_status(conn, apps),
                finished_since=_ended_since(conn, since_ms, apps),
                lost_since=_lost_since(conn, since_ms, apps),
                lost_total=_lost_total(conn, apps),
            )


def _queues(conn: sa.Connection, apps: Apps) -> list[QueueRow]:
    """Pending count and oldest creation per queue (an app's pending jobs,
    ``ix_jobs_app_pending_order``), plus leased jobs."""
    mine = of_app(jobs.c.app, apps)
    pending = conn.execute(
        sa.select(jobs.c.queue, sa.func.count(), sa.func.min(jobs.c.created_ms))
        .where(jobs.c.status == "PENDING", *mine)
        .group_by(jobs.c.queue)
    ).all()
    running = conn.execute(
        sa.select(jobs.c.queue, sa.func.count())
        .where(jobs.c.status.in_(("RUNNING", "STOPPING", "CANCELING")), *mine)
        .group_by(jobs.c.queue)
    ).all()
    held = {str(q): int(n) for q, n in running}
    rows = {
        str(q): QueueRow(str(q), int(n), oldest, held.get(str(q), 0)) for q, n, oldest in pending
    }
    for queue, count in held.items():
        rows.setdefault(queue, QueueRow(queue, 0, None, count))
    return [rows[q] for q in sorted(rows)]


def _by_status(conn: sa.Connection, apps: Apps) -> dict[str, int]:
    """How many jobs are in each status (``ix_jobs_status_created``)."""
    query = (
        sa.select(jobs.c.status, sa.func.count())
        .where(*of_app(jobs.c.app, apps)).group_by(jobs.c.status)
    )  # fmt: skip
    return {str(status): int(n) for status, n in conn.execute(query)}


def _ended_since(conn: sa.Connection, since_ms: int, apps: Apps) -> int:
    """Jobs that reached FINISHED since ``since_ms`` (``ix_jobs_ended``)."""
    query = sa.select(sa.func.count()).where(
        jobs.c.ended_ms >= since_ms, jobs.c.status == "FINISHED", *of_app(jobs.c.app, apps)
    )
    return int(conn.execute(query).scalar_one())


def _lost_since(conn: sa.Connection, since_ms: int, apps: Apps) -> int:
    """Leases the reaper recovered since ``since_ms`` (``ix_job_events_at``)."""
    query = sa.select(sa.func.count()).where(
        job_events.c.at_ms >= since_ms, job_events.c.reason.in_(LOST_REASONS),
        *of_app(job_events.c.app, apps),
    )
    return int(conn.execute(query).scalar_one())


def _lost_total(conn: sa.Connection, apps: Apps) -> int:
    """Every lease ever lost by a worker, summed over the jobs still stored."""
    query = sa.select(sa.func.coalesce(sa.func.sum(jobs.c.lost_count), 0)).where(
        *of_app(jobs.c.app, apps)
    )
    return int(conn.execute(query).scalar_one())


# --- Monitoring: /metrics, /health, the dashboard's charts and label search -----------------

#: Most recently ended jobs a metrics scrape reads for its run-time and wait histograms.
ENDED_SAMPLE = 10_000


@dataclass(frozen=True)
class MonitorRows:
    """Raw figures for ``/metrics``: counts by (status, queue, type), jobs ever claimed per
    queue, and ``(created, started, ended)`` of the jobs ended since the window opened."""

    counts: list[tuple[str, str, str, int]]
    claimed: dict[str, int]
    ended: list[tuple[int, int, int]]
    lost_since: int
    lost_total: int


@dataclass(frozen=True)
class SeriesRows:
    """Per bucket since the window opened: created, started, finished, and left pending
    without a start (canceled while waiting); plus the pending count now."""

    created: dict[int, int]
    started: dict[int, int]
    finished: dict[int, int]
    dropped: dict[int, int]
    pending_now: int


class MonitorStore:
    """Read-only aggregates for monitoring; each one an index scan (see the module doc)."""

    def __init__(self, db: Database, *, apps: Apps = None) -> None:
        self.db = db
        #: The apps whose jobs every figure counts (None: every app's, the operator's view).
        self.apps = apps

    def metrics(self, since_ms: int) -> MonitorRows:
        """What one scrape shows, in one read snapshot."""
        mine = of_app(jobs.c.app, self.apps)
        grouped = sa.select(jobs.c.status, jobs.c.queue, jobs.c.type, sa.func.count()).where(
            *mine
        ).group_by(jobs.c.status, jobs.c.queue, jobs.c.type)
        claimed = sa.select(jobs.c.queue, sa.func.count()).where(
            jobs.c.started_ms.is_not(None), *mine
        ).group_by(jobs.c.queue)
        ended = (
            sa.select(jobs.c.created_ms, jobs.c.started_ms, jobs.c.ended_ms)
            .where(jobs.c.ended_ms >= since_ms, jobs.c.started_ms.is_not(None), *mine)
            .order_by(jobs.c.ended_ms.desc())
            .limit(ENDED_SAMPLE)
        )
        with self.db.read() as conn:
            return MonitorRows(
                counts=[(str(s), str(q), str(t), int(n)) for s, q, t, n in conn.execute(grouped)],
                claimed={str(q): int(n) for q, n in conn.execute(claimed)},
                ended=[(int(c), int(s), int(e)) for c, s, e in conn.execute(ended)],
                lost_since=_lost_since(conn, since_ms, self.apps),
                lost_total=_lost_total(conn, self.apps),
            )

    def series(self, since_ms: int, step_ms: int) -> SeriesRows:
        """Counts per ``step_ms`` bucket since ``since_ms`` (bucket 0 opens the window)."""
        ended = jobs.c.ended_ms
        mine = of_app(jobs.c.app, self.apps)
        with self.db.read() as conn:
            pending = sa.select(sa.func.count()).where(jobs.c.status == "PENDING", *mine)
            return SeriesRows(
                created=_buckets(conn, jobs.c.created_ms, since_ms, step_ms, *mine),
                started=_buckets(conn, jobs.c.started_ms, since_ms, step_ms, *mine),
                finished=_buckets(conn, ended, since_ms, step_ms, jobs.c.status == "FINISHED",
                                  *mine),
                dropped=_buckets(conn, ended, since_ms, step_ms, jobs.c.started_ms.is_(None),
                                 *mine),
                pending_now=int(conn.execute(pending).scalar_one()),
            )

    def labelled(self, text: str, after: tuple[int, str] | None, limit: int) -> list[Row]:
        """Jobs whose label contains ``text`` (any case; ``%``/``_`` match themselves),
        newest first, in keyset pages like the listing. No index serves a substring: it
        scans jobs newest first and stops at ``limit`` matches."""
        query = job_select().where(
            sa.func.lower(jobs.c.label).contains(text.lower(), autoescape=True),
            *of_app(jobs.c.app, self.apps),
        )
        if after is not None:
            key = sa.tuple_(jobs.c.created_ms, jobs.c.id)
            query = query.where(key < sa.tuple_(*map(sa.literal, after)))
        query = query.order_by(jobs.c.created_ms.desc(), jobs.c.id.desc()).limit(limit)
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def labelled_count(self, text: str) -> int:
        """How many jobs :meth:`labelled` would list in all."""
        query = sa.select(sa.func.count()).where(
            sa.func.lower(jobs.c.label).contains(text.lower(), autoescape=True),
            *of_app(jobs.c.app, self.apps),
        )
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())


def _buckets(conn: sa.Connection, column: sa.ColumnElement[Any], since_ms: int, step_ms: int,
             *where: sa.ColumnElement[bool]) -> dict[int, int]:  # fmt: skip
    """``bucket -> count`` of rows whose ``column`` falls in the window (integer division)."""
    bucket = ((column - since_ms) // step_ms).label("bucket")
    query = sa.select(bucket, sa.func.count()).where(column >= since_ms, *where).group_by(bucket)
    return {int(b): int(n) for b, n in conn.execute(query)}
