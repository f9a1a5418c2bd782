"""The SQLite backend: the embedded default, one file in WAL mode.

It owns how SQLite is opened and written (``dialect.py``: pragmas, ``BEGIN IMMEDIATE`` for
writers and deferred readers, the write-ahead-log watcher that stands in for notifications
between processes, the statement deadline, the planner steering SQLite needs without
statistics) and its lease path (``leases.py``: ``SqliteBackend``, the claim and the
end-and-claim as statements under the write lock). Everything else of the engine's contract
is the shared SQLAlchemy Core of ``store/core.py``.
"""
