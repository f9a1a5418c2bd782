"""No-op jobs/s against the peers at their best settings, and against another checkout.

The ``peers`` section of ``bench/run.py``. Every case is one throughput run of the shared
driver (``harness.py``: idle workers warmed up, N jobs enqueued in batches, jobs/s = N /
(enqueue + drain)), and every case runs once per round, the rounds interleaved (odd rounds
in reverse order, so a drift of the machine's load falls on every case alike):

* sysjobs on SQLite and on PostgreSQL, worker processes x slots per process
  (``BENCH_PEERS_PROCESSES``, ``BENCH_PEERS_SLOTS``);
* Procrastinate at concurrency ``BENCH_PEERS_PROCRASTINATE`` (1, 8, 32), an ``async def``
  task, and at ``BENCH_PEERS_PROCRASTINATE_SYNC`` (1) with a plain ``def`` task;
* pgqueuer at batch size ``BENCH_PEERS_PGQUEUER`` (10, 50, 250);
* RQ as it is (``BENCH_PEERS_RQ_N`` jobs: it drains ~100-200 jobs/s here);
* with ``BENCH_NOOP_BEFORE=/path/to/checkout``: sysjobs of that checkout on both databases
  at the default setting (2 processes x 32 slots), beside this checkout's same setting;
* ``BENCH_PEERS_ONLY=sysjobs-postgresql,sysjobs-postgresql (before)``: some of them only.

Each peer runs 2 worker processes, as in the throughput section. The best setting of each
system is the case with the highest median; the ratios pair round *i* of one best case with
round *i* of the other. Each run records the 1-minute load average before it starts: on a
shared machine only ratios taken in the same run mean anything. Each throughput run also
reports the CPU a job of its workers, its driver and (PostgreSQL) the server over its timed
window (``harness.py``); with ``BENCH_NOOP_BEFORE`` those are paired round by round too —
on a loaded machine the CPU a job moves much less than the rate.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
QUICK = os.environ.get("BENCH_PEERS_QUICK") == "1"


def _ints(name: str, default: str, quick: str) -> tuple[int, ...]:
    return tuple(int(v) for v in os.environ.get(name, quick if QUICK else default).split(","))


N = _ints("BENCH_PEERS_N", "5000", "1000")[0]
RQ_N = _ints("BENCH_PEERS_RQ_N", "1000", "200")[0]
ROUNDS = _ints("BENCH_PEERS_ROUNDS", "3", "1")[0]
PROCESSES = _ints("BENCH_PEERS_PROCESSES", "1,2,4", "2")
SLOTS = _ints("BENCH_PEERS_SLOTS", "8,32", "32")
PROCRASTINATE = _ints("BENCH_PEERS_PROCRASTINATE", "1,8,32", "1,32")
#: Concurrencies run with a plain ``def`` task too (the task of the rounds before the eighth).
_SYNC = os.environ.get("BENCH_PEERS_PROCRASTINATE_SYNC", "" if QUICK else "1")
PROCRASTINATE_SYNC = tuple(int(v) for v in _SYNC.split(",") if v)
PGQUEUER = _ints("BENCH_PEERS_PGQUEUER", "10,50,250", "10,250")
#: Another checkout (its repository root): its sysjobs measured beside this one's.
BEFORE = os.environ.get("BENCH_NOOP_BEFORE")
#: ``BENCH_PEERS_ONLY=sysjobs-postgresql,procrastinate``: some systems only (a quick look).
ONLY = tuple(f for f in os.environ.get("BENCH_PEERS_ONLY", "").split(",") if f)
#: The setting both checkouts share by default (``sysjobs worker``'s 32 slots, 2 processes).
DEFAULT_SETTING = (2, 32)
MINE = ("sysjobs-sqlite", "sysjobs-postgresql")


class Runner(Protocol):
    def run(self, system: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        """One system's run (``bench/run.py``'s ``Runner``)."""
        ...


@dataclass(frozen=True)
class Case:
    """One setting of one system: what the tables call a row."""

    family: str
    system: str
    setting: str
    workers: int = 2
    n: int = N
    env: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.family}, {self.setting}"


def _sysjobs(family: str, tree: Path, processes: int, slots: int) -> Case:
    system = family.split(" ")[0]
    env = {"PYTHONPATH": str(tree), "BENCH_SYSJOBS_CONCURRENCY": str(slots)}
    return Case(family, system, f"{processes} proc x {slots} slots", processes, N, env)


def cases() -> list[Case]:
    """Every case of the sweep, in the order of an even round."""
    out = [_sysjobs(db, HERE.parent, p, s) for db in MINE for p in PROCESSES for s in SLOTS]
    if BEFORE:
        out += [_sysjobs(f"{db} (before)", Path(BEFORE).resolve(), *DEFAULT_SETTING)
                for db in MINE]  # fmt: skip
    out += [Case("procrastinate", "procrastinate", f"concurrency {c}",
                 env={"BENCH_PROCRASTINATE_CONCURRENCY": str(c)}) for c in PROCRASTINATE]
    out += [Case("procrastinate", "procrastinate", f"concurrency {c}, sync task",
                 env={"BENCH_PROCRASTINATE_CONCURRENCY": str(c),
                      "BENCH_PROCRASTINATE_TASK": "sync"}) for c in PROCRASTINATE_SYNC]
    out += [Case("pgqueuer", "pgqueuer", f"batch {b}", env={"BENCH_PGQUEUER_BATCH": str(b)})
            for b in PGQUEUER]  # fmt: skip
    out.append(Case("rq", "rq", "default worker", n=RQ_N))
    return [c for c in out if not ONLY or c.family in ONLY]


def measure(runner: Runner, all_cases: list[Case], rounds: int,
            say: Callable[[str], None]) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """{case key: one result per round}; each result carries ``load1`` taken before it."""
    per: dict[str, list[dict[str, Any]]] = {c.key: [] for c in all_cases}
    for rnd in range(rounds):
        order = all_cases if rnd % 2 == 0 else list(reversed(all_cases))
        for case in order:
            load1 = os.getloadavg()[0]
            args = ["--mode", "throughput", "--n", str(case.n), "--workers", str(case.workers)]
            result = runner.run(case.system, *args, env=case.env)
            result["load1"] = load1
            per[case.key].append(result)
            rate = result.get("jobs_per_s", float("nan"))
            cpu = result.get("cpu_us_per_job", {})
            cpu_text = ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
            say(f"  round {rnd + 1}: {case.key:48s} {rate:8.1f} jobs/s  (load {load1:.1f})"
                f"  CPU µs a job: {cpu_text}")
    return per


def rates(results: list[dict[str, Any]]) -> list[float]:
    """jobs/s per round, NaN where a run failed (keeps rounds aligned for pairing)."""
    return [float(r.get("jobs_per_s", float("nan"))) for r in results]


def cpu_per_job(results: list[dict[str, Any]], part: str) -> list[float]:
    """CPU µs a job per round of one part (``workers``, ``server``, ``driver``, or ``engine``
    = workers + server: what the jobs themselves cost), NaN where a run did not report it."""
    out = []
    for r in results:
        per = r.get("cpu_us_per_job", {})
        if part == "engine":
            value = per.get("workers", math.nan) + per.get("server", 0.0)
        else:
            value = per.get(part, math.nan)
        out.append(float(value))
    return out


def rounds(a: list[float], b: list[float]) -> list[float]:
    """a/b of each round (NaN where either side failed), in round order."""
    return [x / y if y and not math.isnan(x) and not math.isnan(y) else math.nan
            for x, y in zip(a, b, strict=False)]  # fmt: skip


def spread(values: list[float]) -> dict[str, float]:
    ok = [v for v in values if not math.isnan(v)]
    if not ok:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan")}
    return {"median": statistics.median(ok), "min": min(ok), "max": max(ok)}


def paired(a: list[float], b: list[float]) -> dict[str, float]:
    """a/b round by round (both measured in the same round), median and spread."""
    return spread([x / y for x, y in zip(a, b, strict=False) if y and not math.isnan(x / y)])


def best(per: dict[str, list[dict[str, Any]]], all_cases: list[Case]) -> dict[str, Case]:
    """{family: its case with the highest median jobs/s}."""
    out: dict[str, Case] = {}
    for case in all_cases:
        mid = spread(rates(per[case.key]))["median"]
        current = out.get(case.family)
        if math.isnan(mid):
            continue
        if current is None or mid > spread(rates(per[current.key]))["median"]:
            out[case.family] = case
    return out


def summarize(per: dict[str, list[dict[str, Any]]], all_cases: list[Case]) -> dict[str, Any]:
    """Every case's figures, the best of each system, the ratios and the goals.

    ``now_over_before`` (with ``BENCH_NOOP_BEFORE``): per database, this checkout's jobs/s
    over the other's, each round's ratio, their median and range; and the same for CPU a job
    (``before / now``'s inverse: a ratio below 1 is less CPU a job now) of the workers, the
    server, both (``engine``) and the driver."""
    rows = {
        c.key: {**spread(rates(per[c.key])), "family": c.family, "setting": c.setting,
                "n": c.n, "load1": [r["load1"] for r in per[c.key]]}
        for c in all_cases
    }  # fmt: skip
    top = best(per, all_cases)
    ratios: dict[str, dict[str, dict[str, float]]] = {}
    for mine in (m for m in MINE if m in top):
        for family, case in top.items():
            if family != mine:
                ratios.setdefault(mine, {})[family] = paired(
                    rates(per[top[mine].key]), rates(per[case.key])
                )
    before: dict[str, dict[str, float]] = {}
    for db in MINE:
        old = next((c for c in all_cases if c.family == f"{db} (before)"), None)
        now = next((c for c in all_cases if c.family == db
                    and (c.workers, int(c.env["BENCH_SYSJOBS_CONCURRENCY"])) == DEFAULT_SETTING),
                   None)  # fmt: skip
        if old is not None and now is not None:
            new_r, old_r = per[now.key], per[old.key]
            before[db] = {
                **paired(rates(new_r), rates(old_r)),
                "rounds": rounds(rates(new_r), rates(old_r)),
                "cpu": {part: {**spread(rounds(cpu_per_job(new_r, part), cpu_per_job(old_r, part))),
                               "rounds": rounds(cpu_per_job(new_r, part),
                                                cpu_per_job(old_r, part)),
                               "now_us": cpu_per_job(new_r, part),
                               "before_us": cpu_per_job(old_r, part)}
                        for part in ("workers", "server", "engine", "driver")},
            }  # fmt: skip
    goals = _goals(ratios)
    return {"rows": rows, "best": {f: c.key for f, c in top.items()}, "ratios": ratios,
            "now_over_before": before, "goals": goals}  # fmt: skip


def _goals(ratios: dict[str, dict[str, dict[str, float]]]) -> list[dict[str, Any]]:
    """Issue 19's goals: ≥ 2x the best Procrastinate on both databases; moonshot ≥ the best
    pgqueuer on PostgreSQL. Met when the median of the paired ratios reaches the bound."""
    wanted = [(db, "procrastinate", 2.0) for db in MINE] + [(MINE[1], "pgqueuer", 1.0)]
    out = []
    for db, peer, bound in wanted:
        ratio = ratios.get(db, {}).get(peer)
        mid = ratio["median"] if ratio else float("nan")
        out.append({"system": db, "peer": peer, "bound": bound, "ratio": ratio,
                    "met": (not math.isnan(mid)) and mid >= bound})  # fmt: skip
    return out
