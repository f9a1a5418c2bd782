"""The workers registry's queries: who serves jobs, from where, how busy, last seen when.

A pool of job slots (``sysjobs.worker.pool``) writes its row when it starts
(:meth:`WorkerStore.register`), refreshes it with its lease heartbeat — in the heartbeat's
own write transaction when it holds leases (:func:`write_beat`, called by
``CoreBackend.heartbeat``), alone when idle — and deletes it when it stops cleanly. Times
are the engine's clock, read inside the write transaction. A row is *gone* when its
supervisor marked it so (it reaped the dead worker process: :data:`GONE_BUSY`), or when its
last heartbeat is older than :data:`GONE_AFTER_LEASES` of its own lease periods (the worker
died with its supervisor, or lost the database); it is pruned past
:data:`PRUNED_AFTER_LEASES`: by every other pool's
refresh (no write of its own) and by retention (``Engine.prune``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.rows import Now, Row, as_row
from sysjobs.store.schema import workers

#: A row whose last heartbeat is older than this many of its lease periods is shown gone.
GONE_AFTER_LEASES = 3
#: … and deleted past this many (long enough for an operator to notice a dead worker).
PRUNED_AFTER_LEASES = 20
#: Most current job ids a row keeps (a pool's slots; ``busy`` still counts them all).
MAX_JOB_IDS = 256
#: ``busy`` of a row its supervisor marked gone (:meth:`WorkerStore.mark_gone`): it reaped
#: the dead process, so no heartbeat will come. Its ``last_seen_ms`` stays the last
#: heartbeat, so the row is pruned on the same rule as any other.
GONE_BUSY = -1


@dataclass(frozen=True)
class WorkerBeat:
    """What a pool writes about itself: who and where it is, and what it runs now."""

    #: The owner id every lease of the pool carries.
    id: str
    host: str
    pid: int
    slots: int
    #: {queue: slots it may use}.
    queues: Mapping[str, int]
    #: The app keys whose jobs it runs.
    apps: Sequence[str]
    lease_ms: int
    #: When it registered (so a row pruned while the pool was away comes back the same).
    started_ms: int
    #: The jobs it runs at this heartbeat.
    job_ids: Sequence[str] = ()

    def values(self) -> dict[str, Any]:
        """The row's columns, ``last_seen_ms`` aside."""
        return {
            "id": self.id, "host": self.host[:255], "pid": self.pid, "slots": self.slots,
            "queues": dict(self.queues), "apps": list(self.apps), "lease_ms": self.lease_ms,
            "started_ms": self.started_ms, "busy": len(self.job_ids),
            "job_ids": sorted(self.job_ids)[:MAX_JOB_IDS],
        }  # fmt: skip


def stale(now_ms: int, leases: int) -> sa.ColumnElement[bool]:
    """Rows whose last heartbeat is older than ``leases`` of their own lease periods."""
    return workers.c.last_seen_ms + workers.c.lease_ms * leases < now_ms


def write_beat(connection: sa.Connection, beat: WorkerBeat, now_ms: int) -> None:
    """Refresh ``beat``'s row (written again if it was pruned meanwhile) and prune the rows
    of workers gone long ago — inside the caller's write transaction."""
    values = beat.values()
    done = connection.execute(
        workers.update().where(workers.c.id == beat.id).values(
            last_seen_ms=now_ms, busy=values["busy"], job_ids=values["job_ids"]
        )
    )
    if done.rowcount == 0:
        connection.execute(workers.insert().values(**values, last_seen_ms=now_ms))
    connection.execute(workers.delete().where(stale(now_ms, PRUNED_AFTER_LEASES)))


class WorkerStore:
    """The registry's rows (``ix_workers_last_seen`` serves the prune)."""

    def __init__(self, db: Database, now: Now) -> None:
        self.db = db
        #: The engine's clock, read inside each write transaction.
        self.now = now

    def register(self, beat: WorkerBeat) -> int:
        """Write a starting pool's row; returns its start time (the engine's clock)."""
        with self.db.write() as tx:
            now = self.now()
            write_beat(tx.connection, replace(beat, started_ms=now), now)
            return now

    def refresh(self, beat: WorkerBeat) -> None:
        """An idle pool's heartbeat (a busy one's rides on its lease heartbeat)."""
        with self.db.write() as tx:
            write_beat(tx.connection, beat, self.now())

    def remove(self, worker_id: str) -> bool:
        """Delete a pool's row as it stops cleanly; False when it was not there."""
        with self.db.write() as tx:
            done = tx.connection.execute(workers.delete().where(workers.c.id == worker_id))
            return done.rowcount > 0

    def mark_gone(self, worker_id: str) -> bool:
        """Mark a dead pool's row gone now (its supervisor reaped the process), its jobs
        none; False when there is no row (it stopped cleanly, or was pruned)."""
        with self.db.write() as tx:
            done = tx.connection.execute(
                workers.update().where(workers.c.id == worker_id)
                .values(busy=GONE_BUSY, job_ids=[])
            )  # fmt: skip
            return done.rowcount > 0

    def rows(self) -> list[Row]:
        """Every row, oldest start first (the registry holds one row per pool: no paging)."""
        query = sa.select(workers).order_by(workers.c.started_ms, workers.c.id)
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def prune(self) -> int:
        """Delete the rows of workers gone past :data:`PRUNED_AFTER_LEASES`."""
        with self.db.write() as tx:
            done = tx.connection.execute(
                workers.delete().where(stale(self.now(), PRUNED_AFTER_LEASES))
            )
            return done.rowcount
