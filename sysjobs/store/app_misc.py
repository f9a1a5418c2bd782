"""Queries on the app's users, files, endpoints and app state, each named once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from sysjobs.store.app_events import JobEventsStore
from sysjobs.store.app_schema import app_endpoints, app_files, app_state, app_users
from sysjobs.store.database import Database
from sysjobs.store.records import RecordStore


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
    """Users, files, endpoints and app state on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # users -------------------------------------------------------------------------
    def users(self) -> list[UserRow]:
        """Every user by email."""
        with self.db.read() as conn:
            rows = conn.execute(sa.select(app_users).order_by(app_users.c.email)).all()
        return [UserRow(**r._mapping) for r in rows]

    def user_by_email(self, email: str) -> UserRow | None:
        """One user by its unique email."""
        with self.db.read() as conn:
            r = conn.execute(sa.select(app_users).where(app_users.c.email == email)).first()
        return None if r is None else UserRow(**r._mapping)

    def insert_user(self, user: UserRow) -> None:
        with self.db.write() as tx:
            tx.connection.execute(sa.insert(app_users).values(**user.__dict__))

    # files -------------------------------------------------------------------------
    def insert_file(self, row: FileRow) -> None:
        with self.db.write() as tx:
            tx.connection.execute(sa.insert(app_files).values(**row.__dict__))

    def file(self, file_id: str) -> FileRow | None:
        """One file, content included."""
        with self.db.read() as conn:
            r = conn.execute(sa.select(app_files).where(app_files.c.id == file_id)).first()
        return None if r is None else FileRow(**r._mapping)

    def file_by_name(self, name: str) -> FileRow | None:
        """The newest file called ``name``."""
        stmt = (sa.select(app_files).where(app_files.c.name == name)
                .order_by(app_files.c.id.desc()).limit(1))
        with self.db.read() as conn:
            r = conn.execute(stmt).first()
        return None if r is None else FileRow(**r._mapping)

    def set_file_token(self, file_id: str, token_hash: str, expires: dt.datetime) -> None:
        stmt = (sa.update(app_files).where(app_files.c.id == file_id)
                .values(token_hash=token_hash, token_expires_at=expires))
        with self.db.write() as tx:
            tx.connection.execute(stmt)

    # endpoints and app state ---------------------------------------------------------
    def status(self, table: sa.Table, key: str) -> str | None:
        """The status column of an endpoint (by name) or of the app (by app name)."""
        with self.db.read() as conn:
            r = conn.execute(sa.select(table.c.status).where(table.c.name == key)).first()
        return None if r is None else str(r.status)

    def set_status(self, table: sa.Table, key: str, status: str) -> None:
        """Upsert a status row (endpoints, app state); a racing insert turns into an update."""
        now = dt.datetime.now(dt.UTC)
        update = sa.update(table).where(table.c.name == key).values(status=status, updated_at=now)
        try:
            with self.db.write() as tx:
                if not tx.connection.execute(update).rowcount:
                    insert = sa.insert(table).values(name=key, status=status, updated_at=now)
                    tx.connection.execute(insert)
        except sa.exc.IntegrityError:
            with self.db.write() as tx:
                tx.connection.execute(update)

    def claim_once(self, key: str) -> bool:
        """True for the one caller that first records ``key`` (e.g. who seeds the app)."""
        now = dt.datetime.now(dt.UTC)
        try:
            with self.db.write() as tx:
                insert = sa.insert(app_state).values(name=key, status="DONE", updated_at=now)
                tx.connection.execute(insert)
        except sa.exc.IntegrityError:
            return False
        return True

    def endpoint_status(self, name: str) -> str | None:
        return self.status(app_endpoints, name)

    def set_endpoint_status(self, name: str, status: str) -> None:
        self.set_status(app_endpoints, name, status)

    def app_status(self, app_name: str) -> str | None:
        return self.status(app_state, app_name)

    def set_app_status(self, app_name: str, status: str) -> None:
        self.set_status(app_state, app_name, status)




@dataclass(frozen=True)
class AppStores:
    """The app's stores on one database: hand in the engine's ``Database`` to share it — its
    read path (never waiting for SQLite's write lock) and its writer path (app writes queue
    with job writes)."""

    records: RecordStore
    misc: AppMiscStore
    job_events: JobEventsStore

    @classmethod
    def for_db(cls, db: Database) -> AppStores:
        return cls(RecordStore(db), AppMiscStore(db), JobEventsStore(db))

    @classmethod
    def open(cls, url: str) -> AppStores:
        """Own database on ``url``, migrated to the newest revision (tests, tools)."""
        db = Database(url, hints=False)
        db.migrate()
        return cls.for_db(db)
