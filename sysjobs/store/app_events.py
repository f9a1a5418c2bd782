"""Job transitions for the app's job listeners, read from the engine's audit trail.

The engine writes every transition to ``job_events``; the app turns new rows into listener
events. A cursor row in ``app_state`` (advanced with compare-and-set) makes each event go
to exactly one of the processes pumping, however many workers share the database.

A store serves one app: it reads the transitions of that app's jobs only, and keeps its
cursor among that app's state rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from sysjobs.store.app_schema import app_state
from sysjobs.store.database import Database
from sysjobs.store.schema import job_events, jobs


@dataclass(frozen=True)
class Transition:
    id: int
    job_id: str
    job_type: str
    from_status: str | None
    to_status: str


class JobEventsStore:
    def __init__(self, db: Database, app: str) -> None:
        self.db = db
        self.app = app

    def latest_id(self) -> int:
        """The newest transition's id (0 when none): where a fresh cursor starts."""
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.max(job_events.c.id))).scalar() or 0)

    def after(self, after_id: int, limit: int) -> list[Transition]:
        """Transitions of this app's jobs newer than ``after_id``, oldest first (primary key
        scan, each joined to its job for the app)."""
        stmt = (
            sa.select(job_events.c.id, job_events.c.job_id, jobs.c.type,
                      job_events.c.from_status, job_events.c.to_status)
            .join(jobs, jobs.c.id == job_events.c.job_id)
            .where(job_events.c.id > after_id, jobs.c.app == self.app)
            .order_by(job_events.c.id)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [Transition(*r) for r in conn.execute(stmt).all()]

    def cursor(self, key: str) -> int | None:
        """The stored cursor, or None before the first pump."""
        with self.db.read() as conn:
            value = conn.execute(
                sa.select(app_state.c.status).where(app_state.c.app == self.app,
                                                    app_state.c.name == key)
            ).scalar()
        return None if value is None else int(value)

    def move_cursor(self, key: str, expected: int | None, new: int) -> bool:
        """Compare-and-set the cursor; False when another process moved it first."""
        now = dt.datetime.now(dt.UTC)
        try:
            with self.db.write() as tx:
                if expected is None:
                    insert = sa.insert(app_state).values(app=self.app, name=key, status=str(new),
                                                         updated_at=now)
                    tx.connection.execute(insert)
                    return True
                stmt = (sa.update(app_state)
                        .where(app_state.c.app == self.app, app_state.c.name == key,
                               app_state.c.status == str(expected))
                        .values(status=str(new), updated_at=now))
                return tx.connection.execute(stmt).rowcount == 1
        except sa.exc.IntegrityError:
            return False
