"""Retention: delete ended jobs (with their logs, results and events) and old logs.

Deletes run in small batches so a prune never holds SQLite's write lock (or a large set of
PostgreSQL row locks) for long while workers are claiming.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.rows import Apps, of_app
from sysjobs.store.schema import job_events, job_logs, job_results, jobs

BATCH = 500
ENDED = ("FINISHED", "CANCELED")


@dataclass(frozen=True)
class PruneCounts:
    """What a prune removed."""

    jobs: int
    logs: int
    #: Rows of workers gone long ago (``sysjobs.store.workers.PRUNED_AFTER_LEASES``).
    workers: int = 0
    #: Lines of the apps' own logs (``sys.logs``) removed.
    app_logs: int = 0


class RetentionStore:
    """Batched deletes for retention."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def prune_jobs(self, ended_before_ms: int, *, apps: Apps = None) -> int:
        """Delete FINISHED/CANCELED jobs of ``apps`` (None: of every app) that ended before
        the cut-off (``ix_jobs_ended``) and have no child left (``ix_jobs_app_parent``).

        A tree goes leaves first: a job below a pruned one would be out of reach of the
        subtree verbs, which walk down by ``parent_id`` (``store/tree.py``) — a cancel of
        a job above it would miss it. A batch that freed parents is followed by another."""
        total = 0
        child = jobs.alias("child")
        childless = ~sa.exists().where(child.c.app == jobs.c.app, child.c.parent_id == jobs.c.id)
        while True:
            with self.db.write() as tx:
                ids = list(
                    tx.connection.execute(
                        sa.select(jobs.c.id)
                        .where(jobs.c.status.in_(ENDED), jobs.c.ended_ms < ended_before_ms,
                               *of_app(jobs.c.app, apps), childless)
                        .limit(BATCH)
                    ).scalars()
                )
                for table in (job_logs, job_events, job_results):
                    tx.connection.execute(table.delete().where(table.c.job_id.in_(ids)))
                tx.connection.execute(jobs.delete().where(jobs.c.id.in_(ids)))
            total += len(ids)
            if not ids:
                return total

    def prune_logs(self, before_ms: int, *, apps: Apps = None) -> int:
        """Delete log lines of ``apps`` (None: of every app) older than the cut-off, whatever
        their job's status."""
        total = 0
        while True:
            with self.db.write() as tx:
                ids = sa.select(job_logs.c.id).where(
                    job_logs.c.ts_ms < before_ms, *of_app(job_logs.c.app, apps)
                ).limit(BATCH)
                done = tx.connection.execute(job_logs.delete().where(job_logs.c.id.in_(ids)))
            total += done.rowcount
            if done.rowcount < BATCH:
                return total
