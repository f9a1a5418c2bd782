"""Queries on the app's users, files, endpoints and app state, each named once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from sysjobs.store.app_events import JobEventsStore
from sysjobs.store.app_schema import app_endpoints, app_files, app_records, app_state, app_users
from sysjobs.store.database import Database
from sysjobs.store.records import RecordStore
from sysjobs.store.schema import job_events, job_logs, job_results, jobs

#: The app key of rows that belong to no app yet (``sysjobs.jobs.apps.UNOWNED``: the store
#: does not import the engine layer, a unit test keeps the two equal).
UNOWNED = ""
#: The ``app_state`` row (app ``UNOWNED``) revision 0010 leaves when it marked rows unowned.
UNOWNED_MARKER = "unowned-rows"
#: Every table whose rows belong to an app.
APP_KEYED_TABLES = (jobs, job_results, job_logs, job_events, app_records, app_users,
                    app_files, app_endpoints, app_state)


@dataclass(frozen=True)
class UserRow:
    id: str
    email: str
    first_name: str
    last_name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class FileRow:
    id: str
    name: str
    content_type: str
    content: bytes
    size: int
    token_hash: str | None
    token_expires_at: dt.datetime | None
    created_at: dt.datetime


class AppMiscStore:
    """Users, files, endpoints and app state of one app on one database: every statement
    is scoped by the app's key (another app's ids and names are not there)."""

    def __init__(self, db: Database, app: str) -> None:
        self.db = db
        self.app = app

    # users -------------------------------------------------------------------------
    def users(self) -> list[UserRow]:
        """Every user of this app by email (ux_app_users_app_email)."""
        stmt = sa.select(*_USER).where(app_users.c.app == self.app).order_by(app_users.c.email)
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        return [UserRow(**r._mapping) for r in rows]

    def user_by_email(self, email: str) -> UserRow | None:
        """One user by its email, unique within the app."""
        stmt = sa.select(*_USER).where(app_users.c.app == self.app, app_users.c.email == email)
        with self.db.read() as conn:
            r = conn.execute(stmt).first()
        return None if r is None else UserRow(**r._mapping)

    def insert_user(self, user: UserRow) -> None:
        with self.db.write() as tx:
            tx.connection.execute(sa.insert(app_users).values(**user.__dict__, app=self.app))

    # files -------------------------------------------------------------------------
    def insert_file(self, row: FileRow) -> None:
        with self.db.write() as tx:
            tx.connection.execute(sa.insert(app_files).values(**row.__dict__, app=self.app))

    def file(self, file_id: str) -> FileRow | None:
        """One file of this app, content included."""
        stmt = sa.select(*_FILE).where(app_files.c.id == file_id, app_files.c.app == self.app)
        with self.db.read() as conn:
            r = conn.execute(stmt).first()
        return None if r is None else FileRow(**r._mapping)

    def file_by_name(self, name: str) -> FileRow | None:
        """The newest file of this app called ``name`` (ix_app_files_app_name)."""
        stmt = (sa.select(*_FILE).where(app_files.c.app == self.app, app_files.c.name == name)
                .order_by(app_files.c.id.desc()).limit(1))
        with self.db.read() as conn:
            r = conn.execute(stmt).first()
        return None if r is None else FileRow(**r._mapping)

    def set_file_token(self, file_id: str, token_hash: str, expires: dt.datetime) -> None:
        stmt = (sa.update(app_files)
                .where(app_files.c.id == file_id, app_files.c.app == self.app)
                .values(token_hash=token_hash, token_expires_at=expires))
        with self.db.write() as tx:
            tx.connection.execute(stmt)

    # endpoints and app state ---------------------------------------------------------
    def _key(self, table: sa.Table, key: str) -> sa.ColumnElement[bool]:
        return sa.and_(table.c.app == self.app, table.c.name == key)

    def status(self, table: sa.Table, key: str) -> str | None:
        """The status column of an endpoint (by name) or of the app (by app name)."""
        with self.db.read() as conn:
            r = conn.execute(sa.select(table.c.status).where(self._key(table, key))).first()
        return None if r is None else str(r.status)

    def set_status(self, table: sa.Table, key: str, status: str) -> None:
        """Upsert a status row (endpoints, app state); a racing insert turns into an update."""
        now = dt.datetime.now(dt.UTC)
        update = sa.update(table).where(self._key(table, key)).values(status=status,
                                                                       updated_at=now)
        try:
            with self.db.write() as tx:
                if not tx.connection.execute(update).rowcount:
                    insert = sa.insert(table).values(app=self.app, name=key, status=status,
                                                     updated_at=now)
                    tx.connection.execute(insert)
        except sa.exc.IntegrityError:
            with self.db.write() as tx:
                tx.connection.execute(update)

    def claim_once(self, key: str) -> bool:
        """True for the one caller that first records ``key`` in this app (e.g. who seeds
        the app)."""
        now = dt.datetime.now(dt.UTC)
        try:
            with self.db.write() as tx:
                insert = sa.insert(app_state).values(app=self.app, name=key, status="DONE",
                                                     updated_at=now)
                tx.connection.execute(insert)
        except sa.exc.IntegrityError:
            return False
        return True

    def claim_unowned(self) -> bool:
        """Take the rows an upgrade left unowned for this app, once per database.

        Revision 0010 marks the rows of a database that had them as unowned and leaves a
        marker row; whoever deletes the marker (one transaction: a racing app finds it
        gone) moves every unowned row to its app. True when this call took them.
        """
        is_marker = sa.and_(app_state.c.app == UNOWNED, app_state.c.name == UNOWNED_MARKER)
        with self.db.read() as conn:  # the usual case, without taking the write lock
            if conn.execute(sa.select(app_state.c.name).where(is_marker)).first() is None:
                return False
        with self.db.write() as tx:
            if tx.connection.execute(sa.delete(app_state).where(is_marker)).rowcount != 1:
                return False
            for table in APP_KEYED_TABLES:
                stmt = sa.update(table).where(table.c.app == UNOWNED).values(app=self.app)
                tx.connection.execute(stmt)
        return True

    def endpoint_status(self, name: str) -> str | None:
        return self.status(app_endpoints, name)

    def set_endpoint_status(self, name: str, status: str) -> None:
        self.set_status(app_endpoints, name, status)

    def app_status(self, app_name: str) -> str | None:
        return self.status(app_state, app_name)

    def set_app_status(self, app_name: str, status: str) -> None:
        self.set_status(app_state, app_name, status)


_USER = [c for c in app_users.c if c.name != "app"]
_FILE = [c for c in app_files.c if c.name != "app"]


@dataclass(frozen=True)
class AppStores:
    """The app's stores on one database: hand in the engine's ``Database`` to share it — its
    read path (never waiting for SQLite's write lock) and its writer path (app writes queue
    with job writes)."""

    records: RecordStore
    misc: AppMiscStore
    job_events: JobEventsStore

    @classmethod
    def for_db(cls, db: Database, app: str) -> AppStores:
        """The stores of app ``app`` (its key) on ``db``."""
        return cls(RecordStore(db, app), AppMiscStore(db, app), JobEventsStore(db, app))

    @classmethod
    def open(cls, url: str, app: str) -> AppStores:
        """Own database on ``url``, migrated to the newest revision (tests, tools)."""
        db = Database(url, hints=False)
        db.migrate()
        return cls.for_db(db, app)
