"""``make bench``: sysjobs side by side with Procrastinate, pgqueuer and RQ, in one run.

Sections (``BENCH_ONLY=throughput,peers,latency,wait,bridge,scale,workers,backlog,apps,cli,
records`` picks some):

* throughput — N no-op jobs enqueued then drained by 2 worker processes, interleaved, 3 times;
* peers — ``bench/peers_bench.py``: no-op jobs/s of every system at several settings
  (sysjobs processes x slots, Procrastinate's concurrency, pgqueuer's batch size), the best
  of each and the ratios between them, in interleaved rounds; ``BENCH_NOOP_BEFORE=checkout``
  adds another checkout's sysjobs on both databases;
* latency — enqueue→start p50/p99, one job every 100 ms on idle workers;
* wait — ``waitForJob`` wake-up after another process changes the status;
* bridge — ``bench/bridge_bench.py``'s figures (raw vs bridged call, pinned, sandbox ready);
* scale — ``find``/``logs`` per filter on a big table, with each plan; jobs/s for 1 to 4
  worker processes; jobs/s with a short and a long queue;
* engine — ``bench/engine_bench.py`` (the engine alone, Python no-op jobs); only when named
  in ``BENCH_ONLY``;
* apps — ``bench/apps_bench.py``: app B's enqueue→start p50/p99 while app A has 50,000
  jobs queued, one pool serving both apps, on both databases; and a fresh job's while one
  root job has 50,000 pending children (fair share per root job);
* cli — ``bench/cli_bench.py``: ``sysjobs run hi.js``, ``jobs ls``, ``jobs show ID`` and
  ``import sysjobs`` against ``node -e``, pair by pair;
* records — ``bench/records_bench.py``: ``sys.data.save`` in a loop, EXECUTE_ACTION against
  the same JavaScript in one plain script (the floor), DELETE/IMPORT/EXPORT_RECORDS, rows/s
  on SQLite and PostgreSQL (it starts its own PostgreSQL when run without the peers).

Sections that need no peer (``bridge``, ``cli``, ``records``) run without installing the
peers or starting Redis when they are all ``BENCH_ONLY`` names. ``make bench-quick`` is one
round of those with small N, written to ``BENCH_OUT`` (``results-quick.json``).

``BENCH_FULL=1`` uses the large sizes (1M rows, 100k queued jobs); ``BENCH_N`` overrides N
and ``BENCH_REPEAT`` the repeats. Prints rich tables; writes ``bench/results.json``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import servers
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".venv-peers"
PEER_PY = PEERS / "bin" / "python"
#: The peers, pinned; installed into their own venv, never into sysjobs' dependencies.
PEER_PINS = (
    "procrastinate==3.10.0", "pgqueuer==1.6.0", "rq==2.12.0", "redis==8.1.0",
    "psycopg[binary]==3.3.9",
)  # fmt: skip
FULL = os.environ.get("BENCH_FULL") == "1"
N = int(os.environ.get("BENCH_N", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
LATENCY_JOBS = 100
SCALE_ROWS = 1_000_000 if FULL else 100_000
WORKER_N = 5_000 if FULL else 1_000
BACKLOGS = (10_000, 100_000) if FULL else (10_000, 40_000)
BACKLOG_N = 3_000 if FULL else 1_000
APPS_BACKLOG = 50_000
SECTIONS = os.environ.get(
    "BENCH_ONLY",
    "throughput,peers,latency,wait,bridge,scale,workers,backlog,apps,cli,records",
)
#: Sections that need neither the peers nor the servers.
STANDALONE = {"bridge", "cli", "records"}
OUT = HERE / os.environ.get("BENCH_OUT", "results.json")

console = Console(width=140)


def ensure_peers() -> None:
    """Create ``bench/.venv-peers`` with the pinned peers (once)."""
    stamp = PEERS / "pins.txt"
    if stamp.exists() and stamp.read_text() == "\n".join(PEER_PINS):
        return
    console.print("[bold]installing the peers into bench/.venv-peers[/bold]")
    subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", str(PEERS)],
                   check=True)  # fmt: skip
    subprocess.run([str(PEER_PY), "-m", "pip", "install", "-q", *PEER_PINS], check=True)
    stamp.write_text("\n".join(PEER_PINS))


def ensure_redis() -> None:
    """Debian's ``redis-server``, installed with apt-get when missing."""
    if shutil.which("redis-server"):
        return
    console.print("[bold]installing redis-server (apt-get)[/bold]")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True, env=env)


def machine() -> dict[str, Any]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )  # fmt: skip
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version()}  # fmt: skip


class Runner:
    """Runs one system's script (in its interpreter) against fresh storage."""

    def __init__(self, pg: servers.Pg, redis_port: int, tmp: Path) -> None:
        self.pg = pg
        self.redis_port = redis_port
        self.tmp = tmp
        self.count = 0

    def target(self, system: str) -> str:
        self.count += 1
        if system == "sysjobs-sqlite":
            return f"sqlite:///{self.tmp / f'sj{self.count}.db'}"
        if system == "rq":
            return str(self.redis_port)
        name = self.pg.fresh_database(f"b{self.count}")
        return self.pg.url(name) if system.startswith("sysjobs") else self.pg.conninfo(name)

    def server_pid(self) -> str:
        """The postmaster's pid (the first line of its socket's lock file): ``harness.py``
        counts the CPU of the cluster's processes during a run (``BENCH_SERVER_PID``)."""
        lock = Path(self.pg.host) / f".s.PGSQL.{self.pg.port}.lock"
        return lock.read_text().split("\n", 1)[0].strip()

    def run(self, system: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        script = "sys_sysjobs.py" if system.startswith("sysjobs") else f"sys_{system}.py"
        python = sys.executable if system.startswith("sysjobs") else str(PEER_PY)
        argv = [python, script, "run", "--target", self.target(system), *args]
        on_pg = system not in ("sysjobs-sqlite", "rq")
        extra = {"BENCH_SERVER_PID": self.server_pid()} if on_pg else {}
        done = subprocess.run(
            argv, cwd=HERE, capture_output=True, text=True,
            env={**os.environ, **extra, **(env or {})},
        )  # fmt: skip
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            console.print(f"[red]{system} failed[/red]\n{done.stderr[-3000:]}")
            return {"system": system, "error": done.stderr[-3000:]}
        return dict(json.loads(lines[-1]))


ALL_SYSTEMS = ("sysjobs-sqlite", "sysjobs-postgresql", "procrastinate", "pgqueuer", "rq")
#: ``BENCH_SYSTEMS=sysjobs-sqlite,procrastinate`` runs some systems only (a quick look).
SYSTEMS = tuple(
    s for s in os.environ.get("BENCH_SYSTEMS", ",".join(ALL_SYSTEMS)).split(",") if s in ALL_SYSTEMS
)
PEER_NAMES = ("procrastinate", "pgqueuer", "rq")


def _fmt(values: list[float]) -> str:
    if not values:
        return "failed"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def throughput(runner: Runner) -> dict[str, Any]:
    per: dict[str, list[dict[str, Any]]] = {s: [] for s in SYSTEMS}
    for rep in range(REPEAT):
        for system in SYSTEMS:
            result = runner.run(system, "--mode", "throughput", "--n", str(N))
            per[system].append(result)
            rate = result.get("jobs_per_s", 0)
            console.print(f"  round {rep + 1}: {system:20s} {rate:8.1f} jobs/s")
    rates = {s: [r["jobs_per_s"] for r in rs if "jobs_per_s" in r] for s, rs in per.items()}
    table = Table(title=f"Throughput: {N:,} no-op jobs, 2 worker processes, {REPEAT} rounds "
                        "interleaved — jobs/s median (min-max)")  # fmt: skip
    table.add_column("system")
    table.add_column("jobs/s", justify="right")
    table.add_column("enqueue s (median)", justify="right")
    mine = [sj for sj in ("sysjobs-sqlite", "sysjobs-postgresql") if sj in SYSTEMS]
    for sj in mine:
        table.add_column(f"{sj} / system", justify="right")
    ratios: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        enq = [r["enqueue_s"] for r in per[system] if "enqueue_s" in r]
        cells = [system, _fmt(rates[system]), f"{statistics.median(enq):.2f}" if enq else "-"]
        for sj in mine:
            paired = [a / b for a, b in zip(rates[sj], rates[system], strict=False) if b]
            if paired and system != sj:
                ratios.setdefault(sj, {})[system] = {
                    "median": statistics.median(paired), "min": min(paired), "max": max(paired),
                }  # fmt: skip
                mid, low, high = statistics.median(paired), min(paired), max(paired)
                cells.append(f"{mid:.2f}x ({low:.2f}-{high:.2f})")
            else:
                cells.append("-")
        table.add_row(*cells)
    console.print(table)
    return {"n": N, "rounds": per, "ratios": ratios}


def latency(runner: Runner) -> dict[str, Any]:
    out: dict[str, Any] = {}
    table = Table(title=f"Enqueue→start latency: one job every 100 ms on idle workers "
                        f"({LATENCY_JOBS} jobs)")  # fmt: skip
    for col in ("system", "p50 ms", "p99 ms", "max ms"):
        table.add_column(col, justify="right" if col != "system" else "left")
    for system in SYSTEMS:
        r = runner.run(system, "--mode", "latency", "--n", str(LATENCY_JOBS))
        out[system] = r
        if "p50_ms" in r:
            table.add_row(system, f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['max_ms']:.1f}")
    console.print(table)
    console.print("  (sysjobs' start is the row's started_ms, whole milliseconds; the peers' "
                  "is time.time() taken by the job itself)")  # fmt: skip
    return out


def wait(runner: Runner) -> dict[str, Any]:
    import wait_bench

    out = {}
    table = Table(title="waitForJob wake-up after another process changes the status")
    for col in ("database", "p50 ms", "p99 ms", "max ms", "goal"):
        table.add_column(col)
    for name, goal in (("sysjobs-sqlite", "≤ 20 ms"), ("sysjobs-postgresql", "≤ 5 ms")):
        r = wait_bench.measure(runner.target(name))
        out[name] = r
        table.add_row(name, f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['max_ms']:.1f}", goal)
    console.print(table)
    return out


def bridge() -> dict[str, Any]:
    import bridge_bench

    return dict(bridge_bench.main())


def scale(runner: Runner) -> dict[str, Any]:
    import scale_bench

    from sysjobs.jobs import Engine

    out: dict[str, Any] = {}
    for name in ("sysjobs-sqlite", "sysjobs-postgresql"):
        engine = Engine.open(runner.target(name))
        try:
            started = time.perf_counter()
            base = scale_bench.fill(engine, SCALE_ROWS, SCALE_ROWS)
            console.print(f"  {name}: filled {SCALE_ROWS:,} jobs + {SCALE_ROWS:,} logs in "
                          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
            rows = scale_bench.measure(engine, base)
        finally:
            engine.close()
        out[name] = rows
        table = Table(title=f"{name}: find / logs on {SCALE_ROWS:,} jobs / {SCALE_ROWS:,} logs "
                            f"(first page of {scale_bench.PAGE}, p50 of {scale_bench.REPEAT})")
        for col in ("call", "filter", "rows", "page p50 ms", "count() p50 ms", "indexed"):
            table.add_column(col, justify="right" if "ms" in col or col == "rows" else "left")
        for r in rows:
            table.add_row(r["kind"], r["filter"], str(r["rows"]), f"{r['page_p50_ms']:.2f}",
                          f"{r['count_p50_ms']:.2f}", "yes" if r["index"] else "[red]no[/red]")
        console.print(table)
        console.print(f"[bold]{name}: plans (EXPLAIN of the page query)[/bold]")
        for r in rows:
            console.print(f"  {r['kind']} {r['filter']}:", highlight=False)
            for line in r["plan"]:
                console.print(f"      {line}", highlight=False, markup=False)
    return out


def engine_section(runner: Runner) -> dict[str, Any]:
    """The engine owner's ``engine_bench.py`` (Python no-op jobs, in-process), as it prints."""
    url = runner.target("sysjobs-postgresql")
    done = subprocess.run(
        [sys.executable, "engine_bench.py", "--pg", url, "--jobs", "2000", "--samples", "100",
         "--rows", str(SCALE_ROWS // 10)],
        cwd=HERE, capture_output=True, text=True,
    )  # fmt: skip
    console.print(done.stdout, highlight=False, markup=False)
    return {"stdout": done.stdout, "returncode": done.returncode}


def _sweep(runner: Runner, title: str, cases: list[tuple[str, list[str]]],
           label: Callable[[dict[str, Any]], str]) -> list[dict[str, Any]]:  # fmt: skip
    table = Table(title=title)
    for col in ("system", "case", "jobs/s"):
        table.add_column(col)
    out = []
    for system in ("sysjobs-sqlite", "sysjobs-postgresql"):
        for case, args in cases:
            r = runner.run(system, *args)
            r["case"] = case
            out.append(r)
            table.add_row(system, label(r), f"{r.get('jobs_per_s', 0):,.0f}")
    console.print(table)
    return out


def workers(runner: Runner) -> list[dict[str, Any]]:
    cases = [(f"{w}", ["--mode", "throughput", "--n", str(WORKER_N), "--workers", str(w)])
             for w in (1, 2, 3, 4)]  # fmt: skip
    return _sweep(runner, f"sysjobs jobs/s by worker processes ({WORKER_N:,} jobs, 2 cores)",
                  cases, lambda r: f"{r['case']} worker process(es)")  # fmt: skip


def backlog(runner: Runner) -> list[dict[str, Any]]:
    cases = [(f"{b}", ["--mode", "backlog", "--backlog", str(b), "--n", str(BACKLOG_N)])
             for b in BACKLOGS]  # fmt: skip
    return _sweep(runner, f"sysjobs jobs/s with a long queue (rate over {BACKLOG_N:,} jobs, "
                  "2 worker processes)", cases, lambda r: f"{int(r['case']):,} queued")


def apps_section(runner: Runner) -> list[dict[str, Any]]:
    """``bench/apps_bench.py``: app B's enqueue→start latency while app A has a backlog of
    ``APPS_BACKLOG`` jobs, one pool serving both, on SQLite and PostgreSQL; and a fresh
    job's while one root job has as many pending children (fair share per root job)."""
    import apps_bench

    pg = runner.target("sysjobs-postgresql")
    rows = apps_bench.run(pg, APPS_BACKLOG, 50)
    console.print(apps_bench.table(rows))
    trees = apps_bench.run_trees(pg, APPS_BACKLOG, 50)
    console.print(apps_bench.tree_table(trees))
    return rows + [{"measure": "tree", **r} for r in trees]


def _x(ratio: dict[str, float] | None) -> str:
    if not ratio or ratio["median"] != ratio["median"]:
        return "-"
    return f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})"


def _rounds(values: list[float], digits: int = 2) -> str:
    return " / ".join(f"{v:,.{digits}f}" if v == v else "-" for v in values)


def peers(runner: Runner) -> dict[str, Any]:
    """``bench/peers_bench.py``: every system at several settings, the best of each, the
    ratios and issue 19's goals; with ``BENCH_NOOP_BEFORE`` another checkout's sysjobs too."""
    import peers_bench as pb

    all_cases = pb.cases()
    per = pb.measure(runner, all_cases, pb.ROUNDS, console.print)
    out = pb.summarize(per, all_cases)
    table = Table(title=f"No-op jobs/s by setting ({pb.N:,} jobs, RQ {pb.RQ_N:,}), "
                        f"{pb.ROUNDS} interleaved rounds — median (min-max), 1-min load")
    for col in ("system", "setting", "jobs/s", "load"):
        table.add_column(col, justify="right" if col in ("jobs/s", "load") else "left")
    for key, row in out["rows"].items():
        mark = " *" if out["best"].get(row["family"]) == key else ""
        loads = row["load1"]
        table.add_row(row["family"], row["setting"] + mark, _fmt(
            [r for r in pb.rates(per[key]) if r == r]),
            f"{statistics.median(loads):.1f}" if loads else "-")  # fmt: skip
    console.print(table)
    console.print("  (* the best setting of each system: the highest median)")
    best = Table(title="The best of each, ratios paired round by round — median (min-max)")
    for col in ("system", "best setting", "jobs/s", *(f"{m} / system" for m in pb.MINE)):
        best.add_column(col)
    for family, key in out["best"].items():
        row = out["rows"][key]
        best.add_row(family, row["setting"], _fmt([r for r in pb.rates(per[key]) if r == r]),
                     *(_x(out["ratios"].get(m, {}).get(family)) for m in pb.MINE))
    console.print(best)
    if pb.QUICK:
        console.print("  (a quick look: one round of 1,000 jobs is too few to judge a goal — "
                      "pgqueuer in particular drains far below its rate at 5,000)")
    for goal in out["goals"]:
        verdict = "[green]met[/green]" if goal["met"] else "[red]not met[/red]"
        console.print(f"  goal: best {goal['system']} ≥ {goal['bound']:g}x the best "
                      f"{goal['peer']}: {_x(goal['ratio'])} — {verdict}")
    for db, ratio in out["now_over_before"].items():
        console.print(f"  {db}, this checkout / {pb.BEFORE} at 2 proc x 32 slots: {_x(ratio)}")
        console.print("    jobs/s ratio per round: " + _rounds(ratio["rounds"]))
        for part, cpu in ratio["cpu"].items():
            if any(v == v for v in cpu["rounds"]):
                console.print(f"    CPU a job, {part}: now / before {_x(cpu)}; per round "
                              f"{_rounds(cpu['rounds'])}; now {_rounds(cpu['now_us'], 0)} µs, "
                              f"before {_rounds(cpu['before_us'], 0)} µs")
    out["per_round"] = per
    return out


def cli() -> dict[str, Any]:
    import cli_bench

    return cli_bench.main()


def records(pg: servers.Pg | None = None) -> dict[str, Any]:
    import records_bench

    return dict(records_bench.main(pg))


def _run_sections(results: dict[str, Any], sections: dict[str, Callable[[], Any]]) -> None:
    for name, section in sections.items():
        if name in SECTIONS.split(","):
            console.rule(name)
            started = time.perf_counter()
            results[name] = section()
            console.print(f"  ({name}: {time.perf_counter() - started:.0f} s)")


def main() -> None:
    standalone = set(SECTIONS.split(",")) <= STANDALONE
    if not standalone:
        ensure_peers()
        ensure_redis()
    results: dict[str, Any] = {"machine": machine(), "full": FULL, "peers": list(PEER_PINS),
                               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    m = results["machine"]
    console.print(f"[bold]machine[/bold]: {m['nproc']} cores, {m['cpu']}, {m['memory_gib']} GiB; "
                  f"python {m['python']}; full={FULL}")  # fmt: skip
    if standalone:
        _run_sections(results, {"bridge": bridge, "cli": cli, "records": records})
    else:
        tmp = Path(tempfile.mkdtemp(prefix="sysjobs-bench-"))
        with servers.postgres() as pg, servers.redis() as redis_port:
            runner = Runner(pg, redis_port, tmp)
            _run_sections(results, {
                "throughput": lambda: throughput(runner),
                "peers": lambda: peers(runner),
                "latency": lambda: latency(runner),
                "wait": lambda: wait(runner),
                "bridge": bridge,
                "scale": lambda: scale(runner),
                "workers": lambda: workers(runner),
                "backlog": lambda: backlog(runner),
                "engine": lambda: engine_section(runner),
                "apps": lambda: apps_section(runner),
                "cli": cli,
                "records": lambda: records(runner.pg),
            })  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)
    results["ended"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    OUT.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
