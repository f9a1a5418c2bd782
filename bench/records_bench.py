"""Record work per second, on SQLite and PostgreSQL, against a floor taken in the same run.

Rows (each on a fresh database, the demo app, its listeners in place):

* ``sys.data.save loop`` — one script (``Host.run``, in this process) that creates and
  saves N companies: createRecord + field().val() + save. The demo's background listener
  ``onCompanyCreated`` enqueues one job per created record (no worker runs them here).
* ``floor: action JS in one script`` — the per-record JavaScript of ``logSomething`` (its
  ``log()`` line and response) run for N records in one plain script: ``sys.data.find``
  over the records, no job machinery. The yardstick of EXECUTE_ACTION.
* ``EXECUTE_ACTION logSomething`` — the demo's one-record action over N records, run by
  one worker process (started and warm before the clock starts; the clock stops when the
  job is FINISHED). Each record's ``log()`` line is a line of the job's log.
* ``DELETE_RECORDS`` / ``IMPORT_RECORDS`` / ``EXPORT_RECORDS`` — rows/s the same way.

The goals (issue 19): the save loop and EXECUTE_ACTION ≥ 3,000 records/s on both databases,
EXECUTE_ACTION within 3x the floor (the ratio is taken per database, in the same run).

Run alone: ``python bench/records_bench.py`` (``BENCH_RECORDS_N`` records, default 2,000;
``BENCH_RECORDS_DB=sqlite`` or ``postgresql`` for one database; ``BENCH_RECORDS_REPEAT``
rounds of every row, the table showing medians; ``BENCH_RECORDS_ROWS`` some rows only).
Each row also reports the CPU time it took per row (every thread of the process that did
the work): on a loaded machine the wall clock measures the load as much as the code.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

N = int(os.environ.get("BENCH_RECORDS_N", "2000"))
DATABASES = tuple(os.environ.get("BENCH_RECORDS_DB", "sqlite,postgresql").split(","))
#: Another checkout (its repository root) to measure too, row by row: the "before" figures.
BEFORE = os.environ.get("BENCH_RECORDS_BEFORE")
#: Rounds of every row (the table shows each row's median): ``BENCH_RECORDS_REPEAT``.
REPEAT = int(os.environ.get("BENCH_RECORDS_REPEAT", "1"))
#: Only these rows (comma-separated names), for a look at one lever: ``BENCH_RECORDS_ROWS``.
ONLY_ROWS = tuple(r for r in os.environ.get("BENCH_RECORDS_ROWS", "").split(",") if r)
GOAL_RATE = 3000.0
GOAL_FLOOR_RATIO = 3.0

SAVE_LOOP = """
for (var i = 0; i < %d; i++) {
  var c = sys.data.createRecord('companies');
  c.field('name').val('bench ' + i);
  c.field('type').val('a');
  sys.data.save(c);
}
"""
#: logSomething's body, per record of one find, in one script.
FLOOR = """
var action = {field: function (n) { return {val: function () {
  return n === 'param1' ? 'a' : 'b'; }}; }};
var rs = sys.data.find('companies', {});
var out = [];
while (rs.hasNext()) {
  var record = rs.next();
  var p1 = action.field('param1').val();
  var p2 = action.field('param2').val();
  log('logSomething on ' + record.label() + ': param1=' + p1 + ', param2=' + p2);
  out.push('logged ' + record.label() + ' with ' + p1 + '/' + p2);
}
out.length;
"""


def _host(url: str, jobs_per_run: int = 1000) -> Any:
    from sysjobs.host import Host
    from sysjobs.runtime import Governance

    return Host(url, governance=Governance(max_jobs_started=max(1000, jobs_per_run)))


def _seed(host: Any, n: int) -> int:
    """N more companies (no listener jobs); returns how many companies there are."""
    rows = [{"name": f"seeded {i}", "type": "a", "employees": i} for i in range(n)]
    for start in range(0, n, 1000):
        host.app.records.insert_many("companies", rows[start:start + 1000], announce=False)
    return int(host.app.records.count("companies", {}))


#: A row's rate (rows/s, wall clock) and the CPU it took a row (µs; every thread of the
#: process that did the work): on a loaded machine the wall clock measures the load as
#: much as the code, the CPU time much less so.
Measured = tuple[float, float]


def _cpu_s(pid: int | None = None) -> float:
    """CPU seconds (user + system, every thread) of this process or of ``pid``."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def save_loop(url: str, n: int) -> Measured:
    host = _host(url, n)  # one listener job per record: the run starts N jobs
    try:
        host.run("1")  # a warm context
        started, cpu = time.perf_counter(), _cpu_s()
        result = host.run(SAVE_LOOP % n, timeout_s=600)
        elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu
        assert result.ok, result.error
        assert host.engine.find({"type": "EXECUTE_LISTENER"}).count() == n
        return n / elapsed, cpu / n * 1e6
    finally:
        host.close()


def floor(url: str, n: int) -> Measured:
    host = _host(url)
    try:
        total = _seed(host, n)
        lines: list[str] = []
        started, cpu = time.perf_counter(), _cpu_s()
        result = host.run(FLOOR, timeout_s=600, log_sink=lines.append)
        elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu
        assert result.ok and result.value == total and len(lines) == total, result.error
        return total / elapsed, cpu / total * 1e6
    finally:
        host.close()


def _csv(n: int) -> bytes:
    rows = ["name,type,employees", *(f"imported {i},b,{i}" for i in range(n))]
    return ("\n".join(rows) + "\n").encode()


#: What each job row starts, given the host and N: (job id, rows it works on).
Start = Callable[[Any, int], tuple[str, int]]


def _action(host: Any, n: int) -> tuple[str, int]:
    total = _seed(host, n)
    params = {"param1": "a", "param2": "b"}
    return host.app.execute_action("companies", {}, "logSomething", params), total


def _delete(host: Any, n: int) -> tuple[str, int]:
    total = _seed(host, n)
    return host.app.delete_records("companies", {}), total


def _import(host: Any, n: int) -> tuple[str, int]:
    file_id = host.app.files.put("bench.csv", _csv(n))
    return host.app.import_records("companies", file_id), n


def _export(host: Any, n: int) -> tuple[str, int]:
    total = _seed(host, n)
    return host.app.export_records("companies", {}), total


JOBS: dict[str, Start] = {
    "EXECUTE_ACTION logSomething": _action,
    "DELETE_RECORDS": _delete,
    "IMPORT_RECORDS": _import,
    "EXPORT_RECORDS": _export,
}


def job_rate(url: str, n: int, start: Start) -> Measured:
    """Rows/s of one job, run by one warm worker process, and its CPU per row (µs)."""
    host = _host(url)
    try:
        with host.workers(processes=1, relay_stderr=False) as workers:
            warm = host.start_script_job("1")
            host.engine.wait(warm.id, ["FINISHED"], 120)
            (pid,) = workers.pids()
            job_id, rows = start(host, n)
            started, cpu = time.perf_counter(), _cpu_s(pid)
            job = host.engine.wait(job_id, ["FINISHED", "STOPPED", "CANCELED"], 600)
            elapsed, cpu = time.perf_counter() - started, _cpu_s(pid) - cpu
            assert job.status == "FINISHED" and not job.has_errors, (job.status, job.id)
        return rows / elapsed, cpu / rows * 1e6
    finally:
        host.close()


@contextmanager
def databases(pg: Any) -> Iterator[Callable[[str, str], str]]:
    """``fresh(db, name)`` → a URL of an empty database of that kind."""
    tmp = Path(tempfile.mkdtemp(prefix="sysjobs-records-"))

    def fresh(db: str, name: str) -> str:
        if db == "sqlite":
            return f"sqlite:///{tmp / (name + '.db')}"
        return str(pg.url(pg.fresh_database(name)))

    try:
        yield fresh
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def _job_row(start: Start) -> Callable[[str, int], Measured]:
    return lambda url, n: job_rate(url, n, start)


ROWS: dict[str, Callable[[str, int], Measured]] = {
    "sys.data.save loop": save_loop,
    "floor: action JS in one script": floor,
    **{name: _job_row(start) for name, start in JOBS.items()},
}


def _one_row(name: str, url: str, tree: str | None) -> Measured:
    """One row's rate and CPU per row, measured in a fresh process (on the code of ``tree``
    when given: another checkout, for a before/after pair taken in the same run)."""
    env = {**os.environ, "PYTHONPATH": tree or str(HERE.parent)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--row", name, url, str(N)],
        capture_output=True, text=True, env=env, cwd=HERE,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("rate ")]
    if done.returncode != 0 or not lines:
        print(done.stderr[-2000:], file=sys.stderr)
        return float("nan"), float("nan")
    words = lines[-1].split()
    return float(words[1]), float(words[3]) if len(words) > 3 else float("nan")


def measure(pg: Any, n: int = N) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """({database[ (before)]: {row: rate}}, the same of CPU µs per row): each row on each
    database, then (with ``BENCH_RECORDS_BEFORE=/path/to/checkout``) the same row on that
    code, interleaved."""
    trees: list[tuple[str, str | None]] = [("", None)]
    if BEFORE:
        trees.append((" (before)", BEFORE))
    columns = [db + tag for db in DATABASES for tag, _ in trees]
    rates: dict[str, dict[str, list[float]]] = {column: {} for column in columns}
    cpus: dict[str, dict[str, list[float]]] = {column: {} for column in columns}
    names = [name for name in ROWS if not ONLY_ROWS or name in ONLY_ROWS]
    with databases(pg) as fresh:
        for k in range(REPEAT):
            for i, name in enumerate(names):
                for db in DATABASES:
                    for j, (tag, tree) in enumerate(trees):
                        rate, us = _one_row(name, fresh(db, f"rec{k}{i}{j}{db[:2]}"), tree)
                        rates[db + tag].setdefault(name, []).append(rate)
                        cpus[db + tag].setdefault(name, []).append(us)
                        # The load average beside each row: what the wall-clock rate shared
                        # the two cores with (the CPU a row is what to compare under load).
                        print(f"  {db + tag:21s} {name:32s} {rate:10,.0f} /s {us:8,.0f} µs CPU/row"
                              f"  load {os.getloadavg()[0]:5.1f}", flush=True)  # fmt: skip
    return _medians(rates), _medians(cpus)


def _medians(runs: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    return {db: {name: statistics.median(v) for name, v in rows.items()}
            for db, rows in runs.items()}  # fmt: skip


def table(out: dict[str, dict[str, float]], cpu: dict[str, dict[str, float]] | None = None,
          n: int = N) -> list[list[str]]:  # fmt: skip
    """Rows of the summary: rate per database, CPU µs per row, the floor ratio, the goal."""
    cpu = cpu or {}
    lines = [["row", *(f"{db} /s" for db in out), *(f"{db} µs CPU" for db in cpu),
              *(f"{db} floor/x" for db in out), "goal"]]  # fmt: skip
    names = list(next(iter(out.values())))
    for name in names:
        cells = [name, *(f"{out[db][name]:,.0f}" for db in out)]
        cells += [f"{cpu[db].get(name, float('nan')):,.0f}" for db in cpu]
        for db in out:
            base = out[db].get("floor: action JS in one script", float("nan"))
            cells.append(f"{base / out[db][name]:.2f}x" if name.startswith("EXECUTE") else "-")
        goal = {"sys.data.save loop": "≥ 3,000/s",
                "EXECUTE_ACTION logSomething": "≥ 3,000/s, ≤ 3x floor"}.get(name, "")
        lines.append([*cells, goal])
    return lines


def main(pg: Any = None) -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    if pg is None and "postgresql" in DATABASES:
        import servers

        with servers.postgres() as started:
            return main(started)
    out, cpu = measure(pg)
    lines = table(out, cpu)
    t = Table(title=f"Record work: {N:,} records per row, demo app, records/s "
                    "(floor/x: the floor's rate / this row's)")  # fmt: skip
    for col in lines[0]:
        t.add_column(col, justify="left" if col in ("row", "goal") else "right")
    for line in lines[1:]:
        t.add_row(*line)
    Console(width=200).print(t)
    return {"n": N, "rates": out, "cpu_us_per_row": cpu}


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    if sys.argv[1:2] == ["--row"]:  # one row in this process: ``--row NAME URL N``
        row, target, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
        rate, us = ROWS[row](target, count)
        print(f"rate {rate} cpu {us}")
    else:
        main()
