"""The PostgreSQL backend (psycopg 3): shared by worker processes on many machines.

It owns how PostgreSQL is opened and written (``dialect.py``: the pool, ``NOTIFY`` with the
commit and the ``LISTEN`` thread, the bulk insert, trigram search, the migration lock, the
statement timeout), its lease path (``leases.py``: ``PostgresBackend``, the claim and the
end-and-claim as one call of a server function) and that function's SQL (``sql/``: the
current schema and the frozen text each revision applied). Everything else of the engine's
contract is the shared SQLAlchemy Core of ``store/core.py``.
"""
