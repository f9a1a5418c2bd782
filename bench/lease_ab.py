"""The server's CPU a job of the lease path, two checkouts paired round by round.

A worker's claim and end of a no-op job are one call of the lease function each group
commit; this bench makes exactly those calls, through each checkout's own engine
(``Leases.claim`` once, then ``Leases.finish_many`` with a ``then_claim`` per ended job, as a
pool's group commit does), and reads what the server's backends of that database spent on
CPU (``/proc/<pid>/schedstat``: nanoseconds on a CPU, per process) — not the wall clock,
which a loaded machine stretches. One throwaway cluster (``autovacuum=off``: no background
work inside a window; with ``--statements``, ``pg_stat_statements`` and
``track_functions = 'pl'`` for the per-statement view), a fresh database per run, both
checkouts in every round, the order alternating (ABBA). Prints per round and the medians:
server µs a job and the ratio ``now / before``, and with ``--statements`` the top
statements of the last round of each.
``--variant FILE`` (``--before-variant FILE``): a ``.sql`` file whose ``-- function: NAME``
the now (before) side calls instead of the release's lease function — one change ablated.

    PYTHONPATH=. .venv/bin/python bench/lease_ab.py --before /tmp/wt-old --rounds 6

Each side runs in its own process with ``PYTHONPATH`` at its checkout (``--side``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OWNER = "bench-owner"


def _backend_ns(admin: Any, database: str) -> int:
    """CPU nanoseconds so far of every backend connected to ``database``."""
    pids = [r[0] for r in admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)).fetchall()]
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):  # a backend gone
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total


def side(url: str, admin_conninfo: str, database: str, jobs: int, slots: int, group: int,
         *, statements: bool, variant: Path | None) -> None:
    """One run in this process's checkout: enqueue ``jobs`` no-op jobs, then claim ``slots``
    and end them ``group`` at a time, each end claiming one more, until all are done.
    Prints a JSON line: the server's CPU ns of the lease calls, the calls, this process's CPU.

    ``variant``: a ``.sql`` file run on the database before the run, which creates a lease
    function of the same signature, called instead of the release's — to measure a change
    of the function's text alone."""
    import psycopg
    from pydantic import BaseModel

    from sysjobs.jobs import Engine, FinishRequest, JobType, Outcome

    class Empty(BaseModel):
        """No input."""

    def noop(_ctx: Any, _data: Empty) -> None:
        """Never run: the jobs are only leased and ended."""

    with Engine.open(url) as engine:
        engine.register(JobType("BENCH_NOOP", Empty, noop))
        for start in range(0, jobs, 1000):
            engine.enqueue_many("BENCH_NOOP", [{}] * min(1000, jobs - start))
        leases = engine.leases
        if variant is not None:
            _use_variant(engine, variant)
        spec = leases.claim_spec(OWNER, limit=1)
        assert spec is not None
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            if statements:
                admin.execute("SELECT pg_stat_statements_reset()")
            start = time.monotonic()  # CLOCK_MONOTONIC: ``perf record -k CLOCK_MONOTONIC``'s
            cpu0, ns0, t0 = time.process_time(), _backend_ns(admin, database), time.perf_counter()
            held = list(leases.claim(OWNER, limit=slots))
            calls, done = 1, 0
            while held:
                batch, held = held[:group], held[group:]
                requests = [FinishRequest(c.lease, Outcome.COMPLETED, then_claim=spec)
                            for c in batch]  # fmt: skip
                for _ended, claimed in leases.finish_many(requests, ended_jobs=False):
                    held.extend(claimed)
                calls += 1
                done += len(batch)
            ns, wall = _backend_ns(admin, database) - ns0, time.perf_counter() - t0
            cpu, window = time.process_time() - cpu0, (start, time.monotonic())
            top = [] if not statements else admin.execute(
                "SELECT calls, round(total_exec_time::numeric, 1), plans,"
                " round(total_plan_time::numeric, 1), shared_blks_hit, wal_records,"
                " left(regexp_replace(query, '\\s+', ' ', 'g'), 110)"
                " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                " WHERE d.datname = %s ORDER BY total_exec_time + total_plan_time DESC LIMIT 16",
                (database,)).fetchall()  # fmt: skip
    print(json.dumps({"server_ns": ns, "calls": calls, "jobs": done, "client_cpu_s": cpu,
                      "wall_s": wall, "window": window,
                      "statements": [list(map(str, s)) for s in top]}))


def _use_variant(engine: Any, variant: Path) -> None:
    """Create ``variant``'s function and make this process's store call it."""
    from sysjobs.store.postgres import leases as pg_leases
    from sysjobs.store.postgres.sql import split

    text = variant.read_text(encoding="utf-8")
    with engine.database.engine.begin() as conn:
        for statement in split(text):
            conn.exec_driver_sql(statement.replace("%", "%%"))
    name = text.split("-- function:", 1)[1].split()[0]
    pg_leases._CALL = f"SELECT {name}(%s::json, %s::json, %s, %s)"


def _run_side(name: str, checkout: Path, url: str, admin: str, database: str,
              args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, __file__, "--side", "--url", url, "--admin", admin, "--database",
         database, "--jobs", str(args.jobs), "--slots", str(args.slots), "--group",
         str(args.group), *(["--statements"] if args.statements else []),
         *(["--variant", str(variant)] if (variant := _variant_of(name, args)) else [])],
        env=env, cwd=checkout, check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _variant_of(name: str, args: argparse.Namespace) -> Path | None:
    variant: Path | None = args.variant if name == "now" else args.before_variant
    return variant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", action="store_true", help="(internal) one run")
    parser.add_argument("--url")
    parser.add_argument("--admin")
    parser.add_argument("--database")
    parser.add_argument("--before", type=Path, help="the other checkout")
    parser.add_argument("--now", type=Path, default=HERE.parent)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--slots", type=int, default=32)
    parser.add_argument("--group", type=int, default=4, help="ends per call")
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--variant", type=Path, help="a .sql file whose '-- function: NAME' "
                        "the now side calls instead of the release's")
    parser.add_argument("--before-variant", type=Path, help="the same for the before side")
    args = parser.parse_args()
    if args.side:
        side(args.url, args.admin, args.database, args.jobs, args.slots, args.group,
             statements=args.statements, variant=args.variant)
        return
    sys.path.insert(0, str(HERE))
    from pgcluster import pg_cluster

    settings: tuple[str, ...] = ("fsync=off", "synchronous_commit=off",
                                 "full_page_writes=off", "autovacuum=off")  # fmt: skip
    if args.statements:  # it costs the server CPU itself, more with more nested statements
        settings += ("track_functions=pl", "pg_stat_statements.track=all",
                     "shared_preload_libraries=pg_stat_statements",
                     "pg_stat_statements.track_planning=on")
    sides = {"now": args.now.resolve(), "before": args.before.resolve()}
    per_job: dict[str, list[float]] = {k: [] for k in sides}
    last: dict[str, dict[str, Any]] = {}
    with pg_cluster("sysjobs-lease-ab-", settings) as cluster:
        import psycopg

        admin = f"host={cluster.host} port={cluster.port} user=postgres dbname=postgres"
        if args.statements:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        for i in range(args.rounds):
            order = list(sides) if i % 2 == 0 else list(reversed(sides))
            for name in order:
                database = f"lease_ab_{name}"
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                    conn.execute(f'CREATE DATABASE "{database}"')
                url = (f"postgresql://postgres@/{database}?host={cluster.host}"
                       f"&port={cluster.port}")  # fmt: skip
                result = _run_side(name, sides[name], url, admin, database, args)
                us = result["server_ns"] / 1000 / result["jobs"]
                per_job[name].append(us)
                last[name] = result
                print(f"round {i + 1} {name:6}: server {us:6.1f} µs a job, "
                      f"{result['calls']} calls, client {result['client_cpu_s']:.2f} s CPU, "
                      f"wall {result['wall_s']:.2f} s", flush=True)  # fmt: skip
    ratios = [n / b for n, b in zip(per_job["now"], per_job["before"], strict=True)]
    print(f"server µs a job: now {statistics.median(per_job['now']):.1f}, before "
          f"{statistics.median(per_job['before']):.1f}; now / before per round "
          f"{' / '.join(f'{r:.2f}' for r in ratios)} → median {statistics.median(ratios):.2f}")
    if args.statements:
        for name, result in last.items():
            print(f"== {name}: calls, ms, plans, planning ms, shared hit, WAL records, statement")
            for row in result["statements"]:
                print("  " + " | ".join(row))
    if args.out:
        args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                        "server_us_per_job": per_job, "ratios": ratios,
                                        "last": last}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
