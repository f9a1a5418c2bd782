"""Indexes behind the claim and ``find`` / ``logs`` at scale: the schema matches the
migrations, the statements the engine sends use the indexes meant for them (PostgreSQL
``EXPLAIN``, SQLite ``EXPLAIN QUERY PLAN``), the start/end bound on ``find`` never hides a job,
and revision 0004 survives a missing pg_trgm.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sysjobs.jobs import Engine, FinishRequest, Outcome
from sysjobs.jobs.models import to_ms
from sysjobs.store import migrate
from sysjobs.store.listing import CLOCK_SLACK_MS, RANGE_PROBE
from sysjobs.store.schema import metadata
from tests.integration.engine.jobtypes import register

ENGINE_TABLES = {"jobs", "job_results", "job_logs", "job_events"}
PG_ONLY = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
#: The tests that read the module's filled database (``filled``), on one backend.
FILLED_PG = pytest.mark.parametrize(
    "module_db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
FILLED_SQLITE = pytest.mark.parametrize("module_db_url", ["sqlite"], indirect=True)
DECLARED = {i.name: i for t in metadata.tables.values() for i in t.indexes}
DAY_MS = 86_400_000
BIG_JOB = "e" * 24


def _index_of(diff: Any) -> sa.Index | None:
    item = diff[0] if isinstance(diff, list) else diff
    found = [p for p in item if isinstance(p, sa.Index)] if isinstance(item, tuple) else []
    return found[0] if found else None


def _table_of(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:] if isinstance(item, tuple) else ():
        if isinstance(part, sa.Index | sa.Column) and part.table is not None:
            return str(part.table.name)
        if isinstance(part, sa.Table):
            return str(part.name)
        if isinstance(part, str) and part in ENGINE_TABLES:
            return part
    return None


def test_engine_tables_match_the_migrations(engine: Engine) -> None:
    """Every revision applied equals ``schema.py``; a dialect-only index counts on its dialect."""
    dialect = engine.database.name
    with engine.database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    ours = []
    for d in diff:
        if _table_of(d) not in ENGINE_TABLES:
            continue
        index = _index_of(d)
        declared = DECLARED.get(index.name) if index is not None else None  # alembic copies
        only = declared._ddl_if.dialect if declared is not None and declared._ddl_if else None
        if only is not None and only != dialect:
            continue  # e.g. the trigram index on SQLite: declared for PostgreSQL only
        ours.append(d)
    assert ours == []


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append((statement, params))

    sa.event.listen(engine.database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine.database.engine, "before_cursor_execute", record)


def _plan(engine: Engine, statement: str, params: Any, setting: str | None = None) -> str:
    if engine.database.name == "sqlite":
        with engine.database.read() as conn:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
        return "\n".join(str(r[-1]) for r in rows)
    with engine.database.engine.connect() as conn:
        if setting is not None:
            conn.exec_driver_sql(f"SET {setting}")
        rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
        conn.rollback()  # undoes the SET too: the pooled connection keeps the defaults
    return "\n".join(str(r[0]) for r in rows)


def _sent(engine: Engine, read: Any, table: str, setting: str | None = None) -> list[str]:
    """The plans of the page and count statements that ``read()`` sent on ``table``."""
    with _statements(engine) as seen:
        read()
    return [_plan(engine, s, p, setting) for s, p in seen if f"FROM {table}" in s]


def _fill_sqlite(engine: Engine, jobs: int, logs: int) -> int:
    """:func:`_fill` for SQLite (a recursive CTE instead of ``generate_series``)."""
    base = 1_700_000_000_000
    step = 30 * DAY_MS // jobs
    series = "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
    with engine.database.engine.begin() as conn:
        conn.exec_driver_sql(
            series.format(n=jobs) + "INSERT INTO jobs (id, app, type, label, status, queue,"
            " low_priority, progress, has_errors, created_ms, started_ms, ended_ms, data,"
            " attempt, lost_count, max_retries) SELECT printf('%024x', g), 'default', 'NOOP', 'bench',"
            f" 'FINISHED', 'mix', 0, 100, 0, {base} + g * {step}, {base} + g * {step} + 100,"
            f" {base} + g * {step} + 1100, '{{}}', 1, 0, 0 FROM s"
        )
        conn.exec_driver_sql("INSERT INTO job_results (job_id) SELECT id FROM jobs")
        conn.exec_driver_sql(
            "INSERT INTO jobs (id, app, type, status, queue, low_priority, progress, has_errors,"
            f" created_ms, data, attempt, lost_count, max_retries) VALUES ('{BIG_JOB}', 'default', 'NOOP',"
            f" 'FINISHED', 'mix', 0, 100, 0, {base}, '{{}}', 1, 0, 0)"
        )
        conn.exec_driver_sql(
            series.format(n=logs) + "INSERT INTO job_logs (job_id, app, ts_ms, level, message)"
            f" SELECT '{BIG_JOB}', 'default', {base} + g, 'INFO', CASE WHEN g % 1000 = 7"
            " THEN 'record ' || g || ': duplicate key' ELSE 'processed record ' || g END FROM s"
        )
        conn.exec_driver_sql("ANALYZE")
    return base


def _fill(engine: Engine, jobs: int, logs: int) -> int:
    """``jobs`` jobs over 30 days and ``logs`` lines of one job (one in 1,000 mentions
    ``duplicate``), written by SQL; returns the first creation time."""
    base = 1_700_000_000_000
    step = 30 * DAY_MS // jobs
    with engine.database.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO jobs (id, app, type, label, status, queue, low_priority, progress,"
            " has_errors, created_ms, started_ms, ended_ms, data, attempt, lost_count,"
            " max_retries) SELECT lpad(to_hex(g), 24, '0'), 'default', 'NOOP', 'bench', 'FINISHED', 'mix',"
            f" false, 100, false, {base} + g * {step}, {base} + g * {step} + 100,"
            f" {base} + g * {step} + 1100, '{{}}', 1, 0, 0 FROM generate_series(1::bigint, {jobs}) g"
        )
        conn.exec_driver_sql("INSERT INTO job_results (job_id) SELECT id FROM jobs")
        conn.exec_driver_sql(
            "INSERT INTO jobs (id, app, type, status, queue, low_priority, progress, has_errors,"
            f" created_ms, data, attempt, lost_count, max_retries) VALUES ('{BIG_JOB}', 'default', 'NOOP',"
            f" 'FINISHED', 'mix', false, 100, false, {base}, '{{}}', 1, 0, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO job_logs (job_id, app, ts_ms, level, message) SELECT"
            f" '{BIG_JOB}', 'default', {base} + g, 'INFO', CASE WHEN g %% 1000 = 7"
            " THEN 'record ' || g || ': duplicate key' ELSE 'processed record ' || g END"
            f" FROM generate_series(1::bigint, {logs}) g"
        )
        conn.exec_driver_sql("ANALYZE")
    return base


@dataclass(frozen=True)
class Filled:
    """The module's database after :data:`FILL_JOBS` jobs and :data:`FILL_LINES` log lines
    were written and analysed, an engine on it, and the first creation time."""

    engine: Engine
    base: int


#: Jobs over 30 days, and lines of one job's log, in the shared filled database.
FILL_JOBS, FILL_LINES = 20_000, 20_000


@pytest.fixture(scope="module")
def filled(module_db_url: str) -> Iterator[Filled]:
    """One filled, analysed database per backend, shared by the tests that only read it
    (``find``, ``logs``, ``count()`` and the plans of what they send; a ``SET`` for a plan is
    rolled back). Filling and analysing it was most of each such test: 20,000 jobs and
    20,000 lines serve both the range tests (which read ``jobs``) and the message tests
    (which read ``job_logs``), whose plans depend only on the table they read. Afterwards the
    module checks that no test wrote: the row counts are those of the fill."""
    engine = Engine.open(module_db_url, migrate=False)
    try:
        fill = _fill if engine.database.name == "postgresql" else _fill_sqlite
        yield Filled(engine, fill(engine, FILL_JOBS, FILL_LINES))
        with engine.database.read() as conn:
            jobs = conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar_one()
            lines = conn.exec_driver_sql("SELECT count(*) FROM job_logs").scalar_one()
        assert (jobs, lines) == (FILL_JOBS + 1, FILL_LINES)  # (+1: the job with the log)
    finally:
        engine.close()


def _history(engine: Engine) -> list[str]:
    """3,000 finished jobs and 1,000 pending ones enqueued together (they share a few
    milliseconds); the ids of the pending ones, in claim order."""
    register(engine)
    done = engine.enqueue_many("NOOP", [{}] * 3_000)
    with engine.database.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE jobs SET status = 'FINISHED' WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": [j.id for j in done]},
        )
    return sorted(j.id for j in engine.enqueue_many("NOOP", [{}] * 1_000))


@SQLITE_ONLY
@pytest.mark.parametrize("types", [None, ["NOOP"]], ids=["every-type", "one-type"])
def test_a_claim_walks_the_pending_rows_in_order_whatever_the_history(
    engine: Engine, types: list[str] | None
) -> None:
    """With 3,000 finished jobs of the type being claimed, the claim reads the pending rows
    in (created_ms, id) order — not every job of that type ever run (SQLite, which keeps no
    statistics, chose ``ix_jobs_type_created`` for a single type), and with no sort."""
    pending = _history(engine)
    with _statements(engine) as seen:
        claimed = engine.leases.claim("w" * 24, limit=2, lease_s=30, types=types)
    assert [c.job.id for c in claimed] == pending[:2]
    (statement, params) = next((s, p) for s, p in seen if "claimable" in s)
    plan = _plan(engine, statement, params)
    assert "ix_jobs_type_created" not in plan, plan
    assert "ix_jobs_app_pending_order" in plan or "ix_jobs_status_created" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@contextmanager
def _server_plans(engine: Engine, *settings: str) -> Iterator[list[str]]:
    """The plans of the statements PostgreSQL runs inside functions while the block runs
    (``auto_explain`` on every new connection, its plans sent back as notices), with
    ``settings`` (``SET …``) on those connections too."""
    plans: list[str] = []

    def explain(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
        dbapi_connection.autocommit = True
        for setting in (
            "LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_nested_statements = on", "SET auto_explain.log_level = notice",
            *settings,
        ):  # fmt: skip
            dbapi_connection.execute(setting)
        dbapi_connection.autocommit = False

    engine.database.engine.dispose()
    sa.event.listen(engine.database.engine, "connect", explain)
    try:
        yield plans
    finally:
        sa.event.remove(engine.database.engine, "connect", explain)
        engine.database.engine.dispose()


@PG_ONLY
@pytest.mark.parametrize("analyzed", [True, False], ids=["with-statistics", "no-statistics"])
def test_the_server_functions_walk_the_indexes_whatever_the_statistics(
    engine: Engine, analyzed: bool
) -> None:
    """The claim takes the oldest pending rows from an index, in order, with no sort, and
    leases them by primary key; the end finds its row by primary key — also before the
    table's first ANALYZE, when the planner believes it nearly empty (it read and sorted
    every pending job, and scanned the table, until ``sysjobs_end_and_claim`` ran with
    sequential and bitmap scans off and the status re-checks hidden from the indexes; it
    then found each picked row through ``ix_jobs_status_created`` until the claim wrote
    them by ``ctid``, revision 0007)."""
    pending = _history(engine)
    if analyzed:
        with engine.database.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE jobs")
    owner = "w" * 24
    with _server_plans(engine) as plans:
        claimed = engine.leases.claim(owner, limit=2, lease_s=30)
        engine.leases.finish(claimed[0].lease, Outcome.COMPLETED)
    assert [c.job.id for c in claimed] == pending[:2]
    (claim,) = [p for p in plans if "SKIP LOCKED" in p and "FOR UPDATE" in p]
    picked = claim.split("CTE picked")[1].split("CTE upd")[0]  # the pending rows' walk
    assert "ix_jobs_app_pending_order" in picked or "ix_jobs_status_created" in picked, claim
    for wrong in ("Sort", "Bitmap", "Seq Scan", "ix_jobs_type_created"):
        assert wrong not in picked, claim
    leased = claim.split("CTE upd")[1].split("CTE ev")[0]  # the picked rows, by ctid
    assert "Tid Scan on jobs" in leased and "Index Scan" not in leased, claim
    locks = [p.split("FOR UPDATE", 1)[1] for p in plans if "ORDER BY j.id" in p]
    assert locks, plans  # (the claim's call ran it too, for no ends)
    for plan in locks:
        assert "jobs_pkey" in plan and "ix_jobs_status_created" not in plan, plan
        assert "Seq Scan on jobs" not in plan, plan


def _unbounded_scans(plan: str) -> list[str]:
    """The scans of ``jobs`` in ``plan`` that read the whole table or a whole index: a
    sequential scan, or an index scan with no condition (the outer side of a hash join)."""
    lines = plan.splitlines()
    found = []
    for i, line in enumerate(lines):
        if " on jobs " not in line + " ":
            continue
        if "Seq Scan" in line:
            found.append(line.strip())
        elif "Index" in line and "Scan" in line:
            detail = lines[i + 1] if i + 1 < len(lines) else ""
            if "Index Cond" not in detail:
                found.append(line.strip())
    return found


@PG_ONLY
@pytest.mark.parametrize("plan_cache", ["auto", "force_generic_plan"])
def test_the_group_commit_reads_only_its_own_rows_whatever_the_plan_cache_chose(
    engine: Engine, plan_cache: str
) -> None:
    """The ends and the claims of one group commit find their rows by key, never by a
    walk of the whole table: PL/pgSQL settles on a generic plan after five calls, and that
    plan (estimating a hundred ends, not sixteen) joined them by hashing every entry of
    ``jobs_pkey`` — a group commit's cost grew with the table, three times the server CPU
    per job at 10,000 rows. Hash and merge joins are off in both functions."""
    _history(engine)
    with engine.database.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE jobs")
    owner = "w" * 24
    claimed = engine.leases.claim(owner, limit=16, lease_s=30)
    with _server_plans(engine, f"SET plan_cache_mode = {plan_cache}") as plans:
        for _ in range(7):  # past the five custom plans
            requests = [
                FinishRequest(c.lease, Outcome.COMPLETED, results={"value": 1},
                              then_claim=engine.leases.claim_spec(owner, limit=1))
                for c in claimed
            ]  # fmt: skip
            claimed = [c for _, more in engine.leases.finish_many(requests) for c in more]
            assert len(claimed) == 16
    statements = [p for p in plans if "jobs" in p]
    assert statements
    for plan in statements:
        assert not _unbounded_scans(plan), plan
        assert "Hash Join" not in plan and "Merge Join" not in plan, plan


@FILLED_PG
def test_the_message_filter_reads_the_trigram_index(filled: Filled) -> None:
    """20,000 lines of one job, 20 of them match: the planner picks the trigram index on its
    own (no ``enable_*`` setting), for the page and for ``count()``."""
    engine = filled.engine
    cursor = engine.logs(BIG_JOB, {"message": "DUPLICATE", "_size": 50})

    def read() -> None:
        assert len(list(cursor)) == 20
        assert cursor.count() == 20

    plans = _sent(engine, read, "job_logs")
    assert len(plans) == 2
    for plan in plans:
        assert "ix_job_logs_message_trgm" in plan, plan
        assert "Seq Scan" not in plan, plan


@FILLED_PG
def test_a_common_message_still_walks_the_job_in_order(filled: Filled) -> None:
    """A text on every line is cheaper to find along ``ix_job_logs_job_ts`` (first 50)."""
    engine = filled.engine
    plans = _sent(engine, lambda: list(engine.logs(BIG_JOB, {"message": "record"})), "job_logs")
    assert "ix_job_logs_job_ts" in plans[0] and "Seq Scan" not in plans[0], plans[0]


@FILLED_PG
@pytest.mark.parametrize(("low", "high"), [("startFrom", "startTo"), ("endFrom", "endTo")])
def test_a_start_or_end_range_bounds_the_newest_first_walk(
    filled: Filled, low: str, high: str
) -> None:
    """20,000 jobs over 30 days, a one-day range in the middle. By default the planner reads
    the range from ``ix_jobs_started`` / ``ix_jobs_ended`` and sorts its ~670 rows; with more
    rows (1M in ``bench/``) it walks ``ix_jobs_created`` newest first instead. That walk is
    shown here with ``SET enable_sort = off``: ``created_ms <= …`` is its index condition, so
    it starts just after the range rather than at the newest job. ``count()`` reads the range
    index."""
    engine, base = filled.engine, filled.base
    day = base + 15 * DAY_MS
    by_range = "ix_jobs_started" if low == "startFrom" else "ix_jobs_ended"

    def read() -> None:
        cursor = engine.find({low: day, high: day + DAY_MS, "_size": 50})
        assert len(list(cursor)) == 50
        assert cursor.count() == 667

    page, count = _sent(engine, read, "jobs")
    assert "Seq Scan on jobs" not in page + count, (page, count)
    assert by_range in page or "Index Cond: (created_ms <=" in page, page
    assert by_range in count, count
    (walk, _) = _sent(engine, read, "jobs", "enable_sort = off")
    assert "Index Scan Backward using ix_jobs_created" in walk, walk
    assert "Index Cond: (created_ms <=" in walk, walk


@FILLED_SQLITE
@pytest.mark.parametrize(("low", "high"), [("startFrom", "startTo"), ("endFrom", "endTo")])
def test_sqlite_walks_a_wide_start_or_end_range_newest_first(
    filled: Filled, low: str, high: str
) -> None:
    """20,000 jobs over 30 days, a five-day range (3,333 jobs, more than ``RANGE_PROBE``): the
    page walks the app's ``ix_jobs_app_created`` below the ``created_ms`` bound with no sort (SQLite's
    planner alone reads the range index and sorts it); ``count()`` reads the range index.
    Every page of the walk matches the jobs' own order."""
    engine, base = filled.engine, filled.base
    day = base + 15 * DAY_MS
    query = {low: day, high: day + 5 * DAY_MS}
    cursor = engine.find({**query, "_size": 50})
    page, count = _sent(engine, lambda: (next(iter(cursor)), cursor.count()), "jobs")[-2:]
    assert cursor.count() > RANGE_PROBE
    # the app's own jobs newest first (revision 0010's index; before apps, ix_jobs_created)
    assert "SEARCH jobs USING INDEX ix_jobs_app_created (app=? AND created_ms<?)" in page, page
    assert "TEMP B-TREE" not in page, page
    by_range = "ix_jobs_started" if low == "startFrom" else "ix_jobs_ended"
    assert by_range in count, count
    column = "started_ms" if low == "startFrom" else "ended_ms"
    assert [j.id for j in engine.find(query)] == _reference(engine, column, day, day + 5 * DAY_MS)


def _reference(engine: Engine, column: str, low: int | None, high: int | None) -> list[str]:
    """The ids of jobs with ``column`` in the range, newest first, read without any index."""
    with engine.database.read() as conn:
        rows = conn.exec_driver_sql(f"SELECT id, created_ms, {column} FROM jobs NOT INDEXED").all()
    found = [r for r in rows if r[2] is not None and (low is None or r[2] >= low)
             and (high is None or r[2] <= high)]  # fmt: skip
    return [r[0] for r in sorted(found, key=lambda r: (r[1], r[0]), reverse=True)]


@FILLED_SQLITE
@pytest.mark.parametrize(
    "query",
    [
        {"startFrom": 15 * DAY_MS, "startTo": 15 * DAY_MS + 600_000},  # ten minutes
        {"endFrom": 30 * DAY_MS - 3_600_000},  # the last hour, no upper bound
        {"startFrom": 40 * DAY_MS},  # after every job
    ],
    ids=["narrow", "from-only", "empty"],
)
def test_sqlite_reads_a_narrow_range_from_its_index(filled: Filled, query: dict[str, int]) -> None:
    """Fewer matches than ``RANGE_PROBE``: the range's own index, then a sort of its rows —
    never the newest-first walk, which would read every older job to find them."""
    engine, base = filled.engine, filled.base
    shifted = {k: base + v for k, v in query.items()}
    cursor = engine.find({**shifted, "_size": 50})
    page, _ = _sent(engine, lambda: (list(cursor), cursor.count()), "jobs")[-2:]
    assert cursor.count() < RANGE_PROBE
    by_range = "ix_jobs_started" if "startFrom" in query else "ix_jobs_ended"
    assert f"SEARCH jobs USING INDEX {by_range}" in page, page
    assert "ix_jobs_created" not in page, page
    column = "started_ms" if "startFrom" in query else "ended_ms"
    low = shifted.get("startFrom", shifted.get("endFrom"))
    high = shifted.get("startTo", shifted.get("endTo"))
    assert [j.id for j in engine.find(shifted)] == _reference(engine, column, low, high)


@FILLED_SQLITE
def test_sqlite_message_filter_walks_the_job_in_order(filled: Filled) -> None:
    """The message filter reads the job's lines along ``ix_job_logs_job_ts`` and stops at the
    page; it is a plain ``LIKE`` (no ``lower()`` per line), and still ignores case."""
    engine = filled.engine
    cursor = engine.logs(BIG_JOB, {"message": "DUPLICATE", "_size": 50})
    with _statements(engine) as seen:
        assert len(list(cursor)) == 20
        assert cursor.count() == 20
    sent = [(s, p) for s, p in seen if "FROM job_logs" in s]
    assert len(sent) == 2 and all("lower(" not in s for s, _ in sent), sent
    page = _plan(engine, *sent[0])  # (count() reads the whole table here: one job has it all)
    assert "USING INDEX ix_job_logs_job_ts (job_id=?)" in page, page
    assert "TEMP B-TREE" not in page, page


def test_the_start_end_bound_never_hides_a_job(engine: Engine) -> None:
    """A job started long after it was created is found, and so is one whose worker's clock
    ran behind the enqueuer's (started "before" it was created, within the slack)."""
    register(engine)
    waited, skewed = engine.enqueue("NOOP", {}), engine.enqueue("NOOP", {})
    created = to_ms(engine.require(skewed.id).created_at)
    assert created is not None
    late, early = created + 5 * DAY_MS, created - CLOCK_SLACK_MS // 2
    jobs = sa.table("jobs", sa.column("id"), sa.column("started_ms"))
    with engine.database.engine.begin() as conn:
        conn.execute(jobs.update().where(jobs.c.id == waited.id).values(started_ms=late))
        conn.execute(jobs.update().where(jobs.c.id == skewed.id).values(started_ms=early))
    assert [j.id for j in engine.find({"startFrom": late, "startTo": late})] == [waited.id]
    assert [j.id for j in engine.find({"startTo": early})] == [skewed.id]
    assert [j.id for j in engine.find({"startTo": late})] == [skewed.id, waited.id]


@pytest.mark.postgres
def test_revision_0004_succeeds_without_pg_trgm(pg_server: Any) -> None:
    """A role that may not create extensions migrates a new database: no trigram index, and
    the message filter still answers."""
    name, role = f"t_{uuid.uuid4().hex[:16]}", f"r_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    owner = sa.create_engine(pg_server.url(name), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:  # tables yes, extensions no (needs CREATE on the database)
        conn.execute(sa.text(f'GRANT CREATE ON SCHEMA public TO "{role}"'))
    owner.dispose()
    url = pg_server.url(name).replace("postgres@", f"{role}@")
    try:
        migrate.upgrade(sa.create_engine(url, poolclass=sa.NullPool))
        opened = Engine.open(url)
        try:
            with opened.database.engine.connect() as conn:
                indexes = (
                    conn.exec_driver_sql(
                        "SELECT indexname FROM pg_indexes WHERE tablename = 'job_logs'"
                    )
                    .scalars()
                    .all()
                )
                version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            assert "ix_job_logs_message_trgm" not in indexes
            assert {version} == migrate.head_revisions()
            register(opened)
            job = opened.enqueue("NOOP", {})
            opened.log_info(job.id, "a Duplicate key")
            opened.log_info(job.id, "fine")
            assert [e.message for e in opened.logs(job.id, {"message": "dup"})] == [
                "a Duplicate key"
            ]
        finally:
            opened.close()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_the_schema_declares_each_index_as_the_migrations_build_it_on_the_database_in_use(
    engine: Engine,
) -> None:
    """The partial indexes' conditions and the trigram index's ``USING gin`` are declared by
    the backend that opens the database (SQLAlchemy would load the PostgreSQL dialect on
    SQLite to validate ``postgresql_*`` keywords): the DDL built from the schema has them."""
    dialect = engine.database.engine.dialect

    def ddl(name: str) -> str:
        return str(sa.schema.CreateIndex(DECLARED[name]).compile(dialect=dialect))

    assert ddl("ix_jobs_app_pending_order").endswith("WHERE status = 'PENDING'")
    assert ddl("ix_jobs_leased").endswith("WHERE owner IS NOT NULL")
    assert ddl("ix_jobs_app_root").endswith("WHERE root_id IS NOT NULL")
    assert ddl("ix_jobs_created").endswith("(created_ms, id)")
    if engine.database.name == "postgresql":
        assert "USING gin (message gin_trgm_ops)" in ddl("ix_job_logs_message_trgm")


def test_the_start_and_end_indexes_hold_only_jobs_that_have_the_time(engine: Engine) -> None:
    """Revision 0019: ``ix_jobs_started`` / ``ix_jobs_ended`` are partial on their column
    being set — a pending job writes an entry in neither (every query on them bounds the
    column; their plans are the tests above). Declared so, and built so by the migrations."""
    dialect = engine.database.engine.dialect
    if engine.database.name == "postgresql":
        built = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    else:
        built = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    for name, column in (("ix_jobs_started", "started_ms"), ("ix_jobs_ended", "ended_ms")):
        declared = str(sa.schema.CreateIndex(DECLARED[name]).compile(dialect=dialect))
        assert declared.endswith(f"WHERE {column} IS NOT NULL")
        with engine.database.engine.connect() as conn:
            ddl = conn.execute(sa.text(built), {"name": name}).scalar_one()
        assert f"{column} IS NOT NULL" in ddl.replace("(", "").replace(")", "")
