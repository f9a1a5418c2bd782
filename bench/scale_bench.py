"""``find`` and ``logs`` on a large table: each filter's first page, p50, with its plan.

The tables are filled by SQL in the database itself (``generate_series`` / a recursive CTE):
``jobs`` rows over 30 days (93 % FINISHED, 1 % PENDING, 1 % RUNNING, …, one in 20 with
errors, four types), and ``logs`` lines of one big job (1 % ERROR; one line in 1,000, an
ERROR too, mentions ``duplicate``) — the worst case for ``logs``, which always names one job.
Each query is the engine's own ``find`` / ``logs`` (a first page of 50, what a script
iterating a ResultSet reads first) timed ``REPEAT`` times; ``count()`` (what
``ResultSet.count()`` costs) is timed too. The plan is the database's own ``EXPLAIN`` of the
statement the engine sent.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from sysjobs.jobs import Engine

REPEAT = 15
PAGE = 50
DAY_MS = 86_400_000
TYPES = ("EXECUTE_ACTION", "IMPORT_RECORDS", "EXPORT_RECORDS", "DELETE_RECORDS")
BIG_JOB = "f" * 24

_STATUS_SQL = (
    "CASE WHEN g % 100 = 0 THEN 'PENDING' WHEN g % 100 = 1 THEN 'RUNNING' "
    "WHEN g % 100 < 5 THEN 'CANCELED' WHEN g % 100 < 7 THEN 'STOPPED' ELSE 'FINISHED' END"
)


def _fill_sql(dialect: str, jobs: int, logs: int, base_ms: int) -> list[str]:
    """Statements that fill ``jobs`` and ``job_logs`` inside the database."""
    step = 30 * DAY_MS // jobs
    if dialect == "postgresql":
        series = f"generate_series(1::bigint, {jobs}) AS g"
        job_id = "lpad(to_hex(g), 24, '0')"
        type_ = f"(ARRAY{list(TYPES)})[1 + g % 4]"
        series_logs = f"generate_series(1::bigint, {logs}) AS g"
        prefix = ""
        true, false = "true", "false"
    else:
        series = "s AS g"
        job_id = "printf('%024x', x)"
        type_ = f"CASE x % 4 {' '.join(f'WHEN {i} THEN {t!r}' for i, t in enumerate(TYPES))} END"
        series_logs = "s"
        prefix = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n}) "
        true, false = "1", "0"
    g = "g" if dialect == "postgresql" else "x"
    status = _STATUS_SQL.replace("g %", f"{g} %")
    created = f"{base_ms} + {g} * {step}"
    started = f"CASE WHEN {g} % 100 = 0 THEN NULL ELSE {created} + 100 END"
    ended = f"CASE WHEN {g} % 100 IN (0, 1) THEN NULL ELSE {created} + 1100 END"
    jobs_sql = (
        prefix.format(n=jobs)
        + "INSERT INTO jobs (id, type, label, status, queue, low_priority, progress, has_errors,"
        " created_ms, started_ms, ended_ms, data, attempt, lost_count, max_retries) "
        f"SELECT {job_id}, {type_}, 'bench', {status}, 'mix', {false}, 100, "
        f"CASE WHEN {g} % 20 = 0 THEN {true} ELSE {false} END, {created}, {started}, {ended}, "
        f"'{{}}', 1, 0, 0 FROM {series}"
    )
    results_sql = "INSERT INTO job_results (job_id) SELECT id FROM jobs"
    big_job = (
        "INSERT INTO jobs (id, type, label, status, queue, low_priority, progress, has_errors,"
        f" created_ms, data, attempt, lost_count, max_retries) VALUES ('{BIG_JOB}',"
        f" 'IMPORT_RECORDS', 'big', 'FINISHED', 'mix', {false}, 100, {true}, {base_ms}, '{{}}',"
        " 1, 0, 0)"
    )
    log_step = max(1, 30 * DAY_MS // logs)
    msg = (
        f"CASE WHEN {g} % 1000 = 7 THEN 'record ' || {g} || ': duplicate key' "
        f"ELSE 'processed record ' || {g} END"
    )
    level = f"CASE WHEN {g} % 100 = 7 THEN 'ERROR' ELSE 'INFO' END"
    logs_sql = (
        prefix.format(n=logs)
        + "INSERT INTO job_logs (job_id, ts_ms, level, message) "
        f"SELECT '{BIG_JOB}', {base_ms} + {g} * {log_step}, {level}, {msg} FROM {series_logs}"
    )
    return [jobs_sql, results_sql, big_job, logs_sql]


def fill(engine: Engine, jobs: int, logs: int) -> int:
    """Fill the tables; returns the first timestamp used (30 days ago)."""
    base_ms = int(time.time() * 1000) - 30 * DAY_MS
    with engine.database.engine.begin() as conn:
        for sql in _fill_sql(engine.database.name, jobs, logs, base_ms):
            # psycopg reads '%' as a placeholder even without parameters
            pg = engine.database.name == "postgresql"
            conn.exec_driver_sql(sql.replace("%", "%%") if pg else sql)
        conn.exec_driver_sql("ANALYZE")
    return base_ms


def find_queries(base_ms: int) -> dict[str, dict[str, Any]]:
    """One query per ``find`` filter of the spec, and one combining them."""
    day = base_ms + 15 * DAY_MS
    return {
        "(none)": {},
        "type": {"type": "IMPORT_RECORDS"},
        "status=PENDING (rare)": {"status": "PENDING"},
        "status=FINISHED (common)": {"status": "FINISHED"},
        "createFrom/createTo (1 day)": {"createFrom": day, "createTo": day + DAY_MS},
        "startFrom/startTo (1 day)": {"startFrom": day, "startTo": day + DAY_MS},
        "endFrom/endTo (1 day)": {"endFrom": day, "endTo": day + DAY_MS},
        "hasErrors=true": {"hasErrors": True},
        "type+status+created": {
            "type": "EXECUTE_ACTION", "status": "FINISHED",
            "createFrom": day, "createTo": day + DAY_MS,
        },
    }  # fmt: skip


def logs_queries(base_ms: int) -> dict[str, dict[str, Any]]:
    """One query per ``logs`` filter of the spec."""
    day = base_ms + 15 * DAY_MS
    return {
        "(none)": {},
        "level=ERROR": {"level": "ERROR"},
        "message~duplicate": {"message": "DUPLICATE"},
        "from/to (1 hour)": {"from": day, "to": day + 3_600_000},
        "period=2h 30m": {"period": "2h 30m"},
        "level+message+from": {"level": "ERROR", "message": "duplicate", "from": day},
    }


@contextmanager
def _captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        seen.append((statement, params))

    sa.event.listen(engine.database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine.database.engine, "before_cursor_execute", record)


def explain(engine: Engine, statement: str, params: Any) -> list[str]:
    """The database's plan for ``statement``."""
    prefix = "EXPLAIN " if engine.database.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.database.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    if engine.database.name == "postgresql":
        return [str(r[0]) for r in rows]
    return [str(r[-1]) for r in rows]


def uses_index(plan: list[str]) -> bool:
    """True when no table of ours is read by a full scan."""
    for line in plan:
        if "Seq Scan on jobs" in line or "Seq Scan on job_logs" in line:
            return False
        if line.strip().startswith("SCAN ") and "USING" not in line:
            return False
    return True


def _p50_ms(action: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(engine: Engine, base_ms: int) -> list[dict[str, Any]]:
    """Rows of {kind, filter, page_p50_ms, count_p50_ms, rows, plan, index}."""
    out: list[dict[str, Any]] = []
    cases: list[tuple[str, str, Callable[[], Any]]] = []
    for name, q in find_queries(base_ms).items():
        cases.append(("find", name, lambda q=q: engine.find({**q, "_size": PAGE})))
    for name, q in logs_queries(base_ms).items():
        cases.append(("logs", name, lambda q=q: engine.logs(BIG_JOB, {**q, "_size": PAGE})))
    for kind, name, open_cursor in cases:
        with _captured(engine) as seen:
            found = list(open_cursor())
        statement, params = seen[-1]
        plan = explain(engine, statement, params)
        out.append({
            "kind": kind,
            "filter": name,
            "rows": len(found),
            "page_p50_ms": _p50_ms(lambda oc=open_cursor: list(oc())),
            "count_p50_ms": _p50_ms(lambda oc=open_cursor: oc().count()),
            "plan": plan,
            "index": uses_index(plan),
        })  # fmt: skip
    return out
