"""What one lease-function call costs in the server, two versions side by side.

On a throwaway cluster (``track_functions = 'pl'``), a backlog of ``--backlog`` no-op jobs
(5,000), then rounds that each end the ``--slots`` (32) jobs the previous call leased and
lease as many again — one worker's group commit at a full backlog — alternating the
functions named (``sysjobs_end_and_claim_v6``, ``…_v7``) call by call. Each call runs under
``EXPLAIN (ANALYZE, BUFFERS)``: the buffers of every statement inside the function count
toward the top node. Prints per function the median time per call, the shared buffers hit
per call, and ``pg_stat_user_functions``' totals (the nested functions' too).

    PYTHONPATH=. .venv/bin/python bench/lease_profile.py --calls 40
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from pgcluster import pg_cluster
from pydantic import BaseModel

from sysjobs.jobs import Engine, JobContext, JobType
from sysjobs.store.backend import FinishSpec
from sysjobs.store.postgres.leases import _claims_json, _ends_json

OWNER = "bench-owner"


class Empty(BaseModel):
    """No input."""


def _noop(ctx: JobContext, data: Empty) -> None:
    """Never run: the jobs are leased and ended by the function calls themselves."""


def _call(conn: sa.Connection, function: str, ends: str, claims: str) -> tuple[float, int, Any]:
    """One call under EXPLAIN: (ms, shared buffers hit + read, the function's answer)."""
    sql = (f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
           f"SELECT {function}(%s::json, %s::json, NULL, true)")  # fmt: skip
    plan = conn.exec_driver_sql(sql, (ends, claims)).scalar_one()[0]
    top = plan["Plan"]
    buffers = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
    # the answer itself: the same call's leases are the ones EXPLAIN ANALYZE made
    leased = conn.exec_driver_sql(
        "SELECT id, attempt FROM jobs WHERE owner = %s AND status = 'RUNNING'", (OWNER,)
    ).all()
    return float(plan["Execution Time"]), buffers, leased


def _explain(conn: sa.Connection, functions: list[str], spec: Any, leased: Any) -> Any:
    """One more call of each function with auto_explain's nested plans sent as notices."""
    notices: list[str] = []
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.add_notice_handler(lambda d: notices.append(d.message_primary or ""))  # type: ignore[attr-defined]
    for setting in (
        "LOAD 'auto_explain'",
        "SET auto_explain.log_min_duration = 0",
        "SET auto_explain.log_analyze = on",
        "SET auto_explain.log_buffers = on",
        "SET auto_explain.log_nested_statements = on",
        "SET auto_explain.log_level = notice",
        "SET client_min_messages = notice",
    ):
        conn.exec_driver_sql(setting)
    for i, function in enumerate(functions):
        now = 1_950_000_000_000 + i
        ends = [FinishSpec(r.id, OWNER, r.attempt, {"RUNNING": "FINISHED"}, {}) for r in leased]
        notices.clear()
        conn.exec_driver_sql(f"SELECT {function}(%s::json, %s::json, NULL, true)",
                             (_ends_json(ends, now), _claims_json([spec], now)))  # fmt: skip
        leased = conn.exec_driver_sql(
            "SELECT id, attempt FROM jobs WHERE owner = %s AND status = 'RUNNING'", (OWNER,)
        ).all()
        print(f"===== {function}")
        for notice in notices:
            print(notice)
    conn.exec_driver_sql("SET auto_explain.log_min_duration = -1")
    return leased


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--slots", type=int, default=32)
    parser.add_argument("--calls", type=int, default=40, help="calls per function")
    parser.add_argument("--functions", default="sysjobs_end_and_claim_v6,sysjobs_end_and_claim_v7")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="then auto_explain's plans of every statement of one more call each",
    )
    args = parser.parse_args()
    functions = args.functions.split(",")
    with pg_cluster(settings=["fsync=off", "track_functions=pl"]) as cluster:
        url = cluster.url()
        with Engine.open(url) as engine:
            engine.register(JobType("BENCH_NOOP", Empty, _noop))
            for _ in range(0, args.backlog, 1000):
                engine.enqueue_many("BENCH_NOOP", [{}] * 1000)
            spec = engine.leases.claim_spec(OWNER, limit=args.slots)
            assert spec is not None
        db = sa.create_engine(url, poolclass=sa.NullPool)
        times: dict[str, list[float]] = {f: [] for f in functions}
        hits: dict[str, list[int]] = {f: [] for f in functions}
        with db.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("SELECT pg_stat_reset()")
            leased: Any = []
            for i in range(args.calls * len(functions)):
                function = functions[i % len(functions)]
                now = 1_900_000_000_000 + i
                ends = [FinishSpec(r.id, OWNER, r.attempt, {"RUNNING": "FINISHED"}, {})
                        for r in leased]  # fmt: skip
                ms, buffers, leased = _call(conn, function, _ends_json(ends, now),
                                            _claims_json([spec], now))  # fmt: skip
                if i >= len(functions):  # the first call of each ends nothing
                    times[function].append(ms)
                    hits[function].append(buffers)
            if args.explain:
                leased = _explain(conn, functions, spec, leased)
            stats = conn.exec_driver_sql(
                "SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions"
                " ORDER BY funcname"
            ).all()
        db.dispose()
    for function in functions:
        print(f"{function}: {statistics.median(times[function]):.2f} ms/call median "
              f"(min {min(times[function]):.2f}, max {max(times[function]):.2f}), "
              f"{statistics.median(hits[function]):.0f} buffers/call")  # fmt: skip
    for name, calls, total, self_ in stats:
        print(f"  {name}: {calls} calls, {total / calls:.2f} ms/call, self {self_ / calls:.2f}")


if __name__ == "__main__":
    main()
