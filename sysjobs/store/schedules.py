"""Named queries of the ``schedules`` table: one app's rows, defining them, firing a tick.

The same SQLAlchemy Core on SQLite and PostgreSQL (not part of the backend seam). Every
query is keyed by the app; the primary key ``(app, name)`` serves each of them.

Firing a tick is the one that matters: the compare-and-set on ``next_ms`` and the insert of
the tick's job share one write transaction (the job store's insert joins it), so a tick
either moves on *and* has its job, or neither — and of many workers firing the same tick,
exactly one sees its ``UPDATE`` match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.jobstore import JobStore
from sysjobs.store.rows import Now, Row, as_row
from sysjobs.store.schema import jobs, schedules

#: What defining a schedule writes (besides the key): what the manifest says of it.
DEFINED = ("cron", "timezone", "target", "enabled", "spec")


class ScheduleStore:
    """The ``schedules`` rows of one app."""

    def __init__(self, db: Database, app: str, now: Now) -> None:
        self.db = db
        self.app = app
        self.now = now
        self._jobs = JobStore(db, now=now)

    def rows(self, names: Sequence[str] | None = None) -> list[Row]:
        """The app's schedules (of ``names`` only, when given), by name, each with the
        status of its last job (None once that job is pruned)."""
        query = (
            sa.select(schedules, jobs.c.status.label("last_status"))
            .outerjoin(jobs, sa.and_(jobs.c.id == schedules.c.last_job_id,
                                     jobs.c.app == schedules.c.app))
            .where(schedules.c.app == self.app)
            .order_by(schedules.c.name)
        )
        if names is not None:
            query = query.where(schedules.c.name.in_(list(names)))
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def create(self, name: str, values: Mapping[str, Any], next_ms: int | None) -> bool:
        """Add the schedule; False when another process added it first."""
        row = {"app": self.app, "name": name, **values, "active": True, "next_ms": next_ms,
               "updated_ms": self.now()}  # fmt: skip
        try:
            with self.db.write() as tx:
                tx.connection.execute(schedules.insert().values(**row))
        except sa.exc.IntegrityError:
            return False
        return True

    def redefine(self, name: str, seen: Row, values: Mapping[str, Any], next_ms: int | None
                 ) -> bool:  # fmt: skip
        """Write the manifest's new definition over the one ``seen`` (compare-and-set on
        its spec and activity: a racing writer of the same change wins alone)."""
        update = (
            schedules.update()
            .where(*self._key(name), schedules.c.spec == seen["spec"],
                   schedules.c.active == seen["active"])
            .values(**values, active=True, next_ms=next_ms, updated_ms=self.now())
        )
        with self.db.write() as tx:
            return tx.connection.execute(update).rowcount == 1

    def deactivate_others(self, names: Sequence[str]) -> int:
        """Mark the app's schedules not in ``names`` removed (inert: no next tick)."""
        update = (
            schedules.update()
            .where(schedules.c.app == self.app, schedules.c.active.is_(True),
                   schedules.c.name.not_in(list(names)))
            .values(active=False, next_ms=None, updated_ms=self.now())
        )
        with self.db.write() as tx:
            return tx.connection.execute(update).rowcount

    def fire(self, name: str, spec: str, due_ms: int, next_ms: int | None,
             job_row: Mapping[str, Any], tick_ms: int, *, target: str) -> bool:  # fmt: skip
        """Move the schedule from its due tick ``due_ms`` to ``next_ms`` and insert the
        tick's job, in one transaction; False (nothing written) when another worker moved
        it first, or the definition (its spec or target) changed meanwhile."""
        update = (
            schedules.update()
            .where(*self._key(name), schedules.c.next_ms == due_ms,
                   schedules.c.spec == spec, schedules.c.target == target,
                   schedules.c.active.is_(True))
            .values(next_ms=next_ms, last_tick_ms=tick_ms, last_fired_ms=job_row["created_ms"],
                    last_job_id=job_row["id"], updated_ms=job_row["created_ms"])
        )
        with self.db.write(joinable=True) as tx:
            if tx.connection.execute(update).rowcount != 1:
                return False
            self._jobs.insert_jobs([job_row], reason=f"schedule {name}")
        return True

    def _key(self, name: str) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
        return schedules.c.app == self.app, schedules.c.name == name
