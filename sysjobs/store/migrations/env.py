"""Alembic environment for sysjobs: always run online, on a connection handed in.

``sysjobs.store.migrate.upgrade`` passes its own connection through
``config.attributes["connection"]`` so that tests and ``Engine.open`` migrate without a
second engine or an ``alembic.ini``.
"""

from __future__ import annotations

import contextlib
import importlib

from alembic import context

from sysjobs.store.schema import metadata

# App tables join the same metadata when their module exists (for autogenerate only).
with contextlib.suppress(ImportError):
    importlib.import_module("sysjobs.store.app_schema")

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - alembic CLI use
    raise RuntimeError("run migrations through sysjobs.store.migrate.upgrade(url)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
