"""Named queries on the app's own log (``sys.logs``): append, pages, counts, retention.

Every statement is scoped by the app's key; pages are keyset pages oldest first along
``ix_app_logs_app_ts`` (``(ts_ms, id) > last``), as a job's log is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.rows import Apps, Row, as_row, of_app
from sysjobs.store.schema import app_logs

#: An inclusive millisecond range; either end may be open.
Range = tuple[int | None, int | None]
BATCH = 500


@dataclass(frozen=True)
class AppLogFilter:
    """The filters of an app-log query, already validated."""

    level: str | None = None
    message: str | None = None
    ts: Range = (None, None)


class AppLogStore:
    """The app log of one app on one database."""

    def __init__(self, db: Database, app: str) -> None:
        self.db = db
        self.app = app

    def append(self, entry: Row) -> int:
        """Insert one line; its id."""
        values = {k: entry.get(k) for k in ("ts_ms", "level", "message", "additional_info",
                                           "job_id")}  # fmt: skip
        with self.db.write() as tx:
            done = tx.connection.execute(
                app_logs.insert().values(app=self.app, **values).returning(app_logs.c.id)
            )
            return int(done.scalar_one())

    def _where(self, f: AppLogFilter) -> list[sa.ColumnElement[bool]]:
        where: list[sa.ColumnElement[bool]] = [app_logs.c.app == self.app]
        if f.level is not None:
            where.append(app_logs.c.level == f.level)
        if f.message:
            where.append(self.db.dialect.contains_ignoring_case(app_logs.c.message, f.message))
        low, high = f.ts
        if low is not None:
            where.append(app_logs.c.ts_ms >= low)
        if high is not None:
            where.append(app_logs.c.ts_ms <= high)
        return where

    def page(self, f: AppLogFilter, after: tuple[int, int] | None, limit: int) -> list[Row]:
        """Oldest first (``ix_app_logs_app_ts``)."""
        query = app_logs.select().where(*self._where(f))
        if after is not None:
            query = query.where(
                sa.tuple_(app_logs.c.ts_ms, app_logs.c.id) > sa.tuple_(*map(sa.literal, after))
            )
        query = query.order_by(app_logs.c.ts_ms, app_logs.c.id).limit(limit)
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def count(self, f: AppLogFilter) -> int:
        """How many lines of the app match, ignoring any page size."""
        query = sa.select(sa.func.count()).select_from(app_logs).where(*self._where(f))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())


def prune_app_logs(db: Database, before_ms: int, *, apps: Apps = None) -> int:
    """Delete app-log lines of ``apps`` (None: of every app) older than the cut-off, in
    batches (``ix_app_logs_ts``)."""
    total = 0
    while True:
        with db.write() as tx:
            ids = sa.select(app_logs.c.id).where(
                app_logs.c.ts_ms < before_ms, *of_app(app_logs.c.app, apps)
            ).limit(BATCH)
            done = tx.connection.execute(app_logs.delete().where(app_logs.c.id.in_(ids)))
        total += done.rowcount
        if done.rowcount < BATCH:
            return total


__all__ = ["AppLogFilter", "AppLogStore", "Range", "prune_app_logs"]
