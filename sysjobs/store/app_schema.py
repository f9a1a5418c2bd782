"""The app's tables, on the engine's ``metadata`` so one migration chain covers both.

Records of every entity share one table: their field values are a JSON document keyed by
field path (``{"name": "Acme", "address.city": "Austin"}``). Queries compare JSON values
(``json_extract`` on SQLite, ``->>`` on PostgreSQL); ``(entity, id)`` serves the scans,
which always walk records in id order so long jobs can resume after the last id done.

Every table carries the app key (``app``, see ``sysjobs.store.schema.app_column``) and its
keys and indexes lead with it: two apps may have an endpoint or a user email of the same
name, and an app's scans read only its own rows.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from sysjobs.store.schema import app_column, metadata

_JSON = JSON().with_variant(JSONB(), "postgresql")

app_records = Table(
    "app_records",
    metadata,
    Column("id", String(24), primary_key=True),
    app_column(),
    Column("entity", String(100), nullable=False),
    Column("label", Text, nullable=True),
    Column("data", _JSON, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_app_records_app_entity_id", "app", "entity", "id"),
)

app_users = Table(
    "app_users",
    metadata,
    Column("id", String(24), primary_key=True),
    app_column(),
    Column("email", String(255), nullable=False),
    Column("first_name", String(255), nullable=False),
    Column("last_name", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ux_app_users_app_email", "app", "email", unique=True),
)

app_files = Table(
    "app_files",
    metadata,
    Column("id", String(24), primary_key=True),
    app_column(),
    Column("name", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    #: sha256 of the download token (the token itself is never stored).
    Column("token_hash", String(64), nullable=True),
    Column("token_expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_app_files_app_name", "app", "name"),
)

app_endpoints = Table(
    "app_endpoints",
    metadata,
    Column("app", String(64), primary_key=True, server_default=""),
    Column("name", String(100), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Per app: its status (``STARTED``/``STOPPED``) under the app's name, and its markers
#: (``seeded``, the job-event cursor) under their own names.
app_state = Table(
    "app_state",
    metadata,
    Column("app", String(64), primary_key=True, server_default=""),
    Column("name", String(100), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

APP_TABLES = (app_records, app_users, app_files, app_endpoints, app_state)
