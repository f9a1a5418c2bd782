"""The job engine's tables, as SQLAlchemy Core, on one shared :data:`metadata`.

Times are stored as integer milliseconds since the epoch (UTC): the spec's filters are
millisecond ranges, both dialects compare integers exactly, and no timezone handling leaks
into SQL. The hot row (``jobs``) holds only what claiming, leasing and listing need; logs,
results/checkpoints and the audit trail of transitions live in their own tables so that a
chatty job never contends with the claim path.

Other modules (``sysjobs.store.app_schema``) add their tables to the same :data:`metadata`;
this module imports nothing from them so that the dependency points one way only.

Many apps share one database (revision 0010): every row that belongs to an app carries the
app's key in ``app`` (``sysjobs.jobs.apps``), and the indexes that serve an app's queries
lead with it. A row written without a key gets the server default, the unowned sentinel
``''``, which no app's query matches: a forgotten key hides a row, it never leaks one.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Autoincrement ids: 64-bit on PostgreSQL, SQLite's rowid alias (INTEGER PRIMARY KEY) there.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def app_column() -> sa.Column[str]:
    """The app key of a row (unowned, ``''``, when the writer gave none)."""
    return sa.Column("app", sa.String(64), nullable=False, server_default="")


#: ``Index.info`` key of the options an index has on one database only: ``{dialect name:
#: {option: value}}``, declared on its indexes by :func:`declare_dialect_options`.
DIALECT_OPTIONS = "sysjobs_dialect_options"


def partial_index(name: str, *columns: str, where: str) -> sa.Index:
    """An index over the rows matching ``where`` (the same SQL on both databases).

    The condition is kept in the index's ``info``, not passed as ``postgresql_where`` /
    ``sqlite_where``: SQLAlchemy loads a dialect to validate its keyword arguments, and
    the PostgreSQL one (with asyncio, for its asyncpg driver) was a sixth of what a SQLite
    command line such as ``sysjobs jobs ls`` loaded. Each backend declares the options of
    its own dialect when it opens a database.
    """
    options = {"where": where}
    return sa.Index(name, *columns, info={DIALECT_OPTIONS: {"sqlite": options,
                                                            "postgresql": options}})  # fmt: skip


def declare_dialect_options(dialect_name: str) -> None:
    """Give every index of :data:`metadata` its options on ``dialect_name`` (the partial
    indexes' ``WHERE``, the trigram index's ``USING gin``), as the keyword arguments would
    have: DDL built from the schema, and its comparison with the migrations, see them.
    Idempotent; a backend calls it when it opens a database, after SQLAlchemy loaded the
    dialect anyway."""
    for table in metadata.tables.values():
        for index in table.indexes:
            declared = index.info.get(DIALECT_OPTIONS, {}).get(dialect_name, {})
            for option, value in declared.items():
                shown = sa.text(value) if option == "where" else value
                index.dialect_options[dialect_name][option] = shown


jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),  # 24 lowercase hex, time-ordered
    app_column(),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("label", sa.String(255), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("queue", sa.String(32), nullable=False),
    sa.Column("low_priority", sa.Boolean(), nullable=False, default=False),
    sa.Column("progress", sa.Integer(), nullable=False, default=0),
    sa.Column("has_errors", sa.Boolean(), nullable=False, default=False),
    sa.Column("created_ms", sa.BigInteger(), nullable=False),
    sa.Column("started_ms", sa.BigInteger(), nullable=True),
    sa.Column("ended_ms", sa.BigInteger(), nullable=True),
    sa.Column("run_by_id", sa.String(64), nullable=True),
    sa.Column("run_by_name", sa.String(255), nullable=True),
    sa.Column("parent_id", sa.String(24), nullable=True),
    sa.Column("root_id", sa.String(24), nullable=True),
    sa.Column("data", sa.JSON(), nullable=False),
    # Lease: who runs it (a fresh worker id), which claim (attempt), until when.
    sa.Column("owner", sa.String(40), nullable=True),
    sa.Column("attempt", sa.Integer(), nullable=False, default=0),
    sa.Column("lease_expires_ms", sa.BigInteger(), nullable=True),
    # When a requested stop/cancel stops being cooperative and the worker forces it.
    sa.Column("force_at_ms", sa.BigInteger(), nullable=True),
    # Lost-lease retries: how many times the worker vanished, and how many retries allowed.
    sa.Column("lost_count", sa.Integer(), nullable=False, default=0),
    sa.Column("max_retries", sa.Integer(), nullable=False, default=0),
    # The job's turn in its app's pending order (revision 0016): the claim takes the lowest
    # turns first, so the trees of root jobs share the workers (``store/turns.py``). Set
    # at enqueue; rows from before the revision have their creation time, and a row written
    # without one (a worker of an earlier release) turn 0: it goes first, as a resumed job.
    sa.Column("turn", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    # An app's claim (revision 0010): every claim is one app's, walking its pending jobs
    # in turn order (0011 dropped the unscoped pending indexes, and the app's per-queue one
    # that the planner, misled by stale statistics, read and sorted a backlog from per
    # claim; 0016 made the order the turn's).
    partial_index(
        "ix_jobs_app_pending_order",
        "app",
        "turn",
        "id",
        where="status = 'PENDING'",
    ),
    # The last pending turn of a tree, read at enqueue of a job of that tree (0016).
    partial_index(
        "ix_jobs_root_pending",
        "root_id",
        "turn",
        where="status = 'PENDING' AND root_id IS NOT NULL",
    ),
    # Leased jobs of an app by queue: the running count a claim under a concurrency limit
    # reads (0016).
    partial_index(
        "ix_jobs_app_leased",
        "app",
        "queue",
        where="owner IS NOT NULL",
    ),
    partial_index(
        "ix_jobs_leased",
        "lease_expires_ms",
        where="owner IS NOT NULL",
    ),
    sa.Index("ix_jobs_created", "created_ms", "id"),
    sa.Index("ix_jobs_app_created", "app", "created_ms", "id"),
    sa.Index("ix_jobs_status_created", "status", "created_ms", "id"),
    sa.Index("ix_jobs_type_created", "type", "created_ms"),
    # Only the jobs that have the time (revision 0019): every query on them bounds the
    # column, which implies IS NOT NULL; a pending job writes an entry in neither.
    partial_index("ix_jobs_started", "started_ms", where="started_ms IS NOT NULL"),
    partial_index("ix_jobs_ended", "ended_ms", where="ended_ms IS NOT NULL"),
    # The job tree (revision 0015, which dropped ``ix_jobs_parent``): a page's children
    # counts (index-only), a job's children, a subtree's walk; a root's tree newest first
    # (``sysjobs.store.tree``).
    # Partial: roots (most jobs) are not in them, and no claim can take them for its walk
    # of an app's pending rows (it did, ranking (app, parent_id, status) above the
    # pending index once statistics were in).
    partial_index(
        "ix_jobs_app_parent",
        "app",
        "parent_id",
        "status",
        where="parent_id IS NOT NULL",
    ),
    partial_index(
        "ix_jobs_app_root",
        "app",
        "root_id",
        "created_ms",
        "id",
        where="root_id IS NOT NULL",
    ),
)

job_results = sa.Table(
    "job_results",
    metadata,
    sa.Column(
        "job_id", sa.String(24), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    ),
    app_column(),
    sa.Column("results", sa.JSON(), nullable=True),
    sa.Column("checkpoint", sa.JSON(), nullable=True),
)

job_logs = sa.Table(
    "job_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "job_id", sa.String(24), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
    ),
    app_column(),
    sa.Column("ts_ms", sa.BigInteger(), nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("additional_info", sa.JSON(), nullable=True),
    sa.Index("ix_job_logs_job_ts", "job_id", "ts_ms", "id"),
    # The ``message`` filter (ILIKE '%text%') on PostgreSQL, revision 0004: trigrams find the
    # few matching lines of a job with a million lines instead of reading them all. Needs the
    # pg_trgm extension; without it the migration leaves the index out (the filter still works).
    sa.Index(
        "ix_job_logs_message_trgm",
        "message",
        info={
            DIALECT_OPTIONS: {"postgresql": {"using": "gin", "ops": {"message": "gin_trgm_ops"}}}
        },
    ).ddl_if(dialect="postgresql"),
)

job_events = sa.Table(
    "job_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "job_id", sa.String(24), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
    ),
    app_column(),
    sa.Column("at_ms", sa.BigInteger(), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer(), nullable=False, default=0),
    sa.Column("owner", sa.String(40), nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Index("ix_job_events_job", "job_id", "id"),
    sa.Index("ix_job_events_at", "at_ms"),
)

# The workers registry (revision 0012): one row per running pool of job slots, keyed by the
# owner id its leases carry. Written when the pool starts, refreshed with its heartbeat,
# deleted when it stops; a row whose heartbeat is older than a few of its own lease periods
# belongs to a worker that died, and is pruned later (``sysjobs.store.workers``).
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # the pool's owner id
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("slots", sa.Integer(), nullable=False),
    # {queue: slots it may use}; the app keys it serves; the jobs it runs now.
    sa.Column("queues", sa.JSON(), nullable=False),
    sa.Column("apps", sa.JSON(), nullable=False),
    sa.Column("busy", sa.Integer(), nullable=False),
    sa.Column("job_ids", sa.JSON(), nullable=False),
    sa.Column("lease_ms", sa.BigInteger(), nullable=False),
    sa.Column("started_ms", sa.BigInteger(), nullable=False),
    sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
    sa.Index("ix_workers_last_seen", "last_seen_ms"),
)


#: ``sys.logs``: the app's own log (issue 20), separate from every job's log. ``job_id`` is
#: the job the writing script ran in, if any (no foreign key: an app log outlives its job,
#: retention prunes the two apart). Revision 0013.
app_logs = sa.Table(
    "app_logs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    app_column(),
    sa.Column("ts_ms", sa.BigInteger(), nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("additional_info", sa.JSON(), nullable=True),
    sa.Column("job_id", sa.String(24), nullable=True),
    # An app's page, oldest first, and a period filter on it.
    sa.Index("ix_app_logs_app_ts", "app", "ts_ms", "id"),
    # Retention's scan across apps.
    sa.Index("ix_app_logs_ts", "ts_ms"),
)


#: Scheduled jobs (issue 20, revision 0014): one row per schedule of an app's manifest,
#: keyed (app, name). ``next_ms`` is the next tick; whoever fires it moves it on with a
#: compare-and-set in the transaction that inserts the tick's job, so one job starts per
#: tick however many workers tick (``sysjobs.store.schedules``). ``spec`` is what
#: ``next_ms`` was computed from (cron, zone, enabled): a manifest that changes it restarts
#: the count from the time of the change. A schedule gone from the manifest keeps its row,
#: ``active`` false and ``next_ms`` NULL: inert, shown as removed.
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("app", sa.String(64), primary_key=True, server_default=""),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("cron", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    # ``listener:<name>`` or ``script:<file>`` (``script:(inline)``: inline source).
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("spec", sa.String(400), nullable=False),
    sa.Column("next_ms", sa.BigInteger(), nullable=True),
    # The last tick fired, when, and the job it started.
    sa.Column("last_tick_ms", sa.BigInteger(), nullable=True),
    sa.Column("last_fired_ms", sa.BigInteger(), nullable=True),
    sa.Column("last_job_id", sa.String(24), nullable=True),
    sa.Column("updated_ms", sa.BigInteger(), nullable=False),
)
