"""The peers sweep's summary (``bench/peers_bench.py``): which setting is a system's best,
how ratios pair rounds, and how issue 19's goals are judged — from made-up results."""

from __future__ import annotations

import math
from typing import Any

from bench.peers_bench import Case, best, paired, summarize


def _runs(*rates: float) -> list[dict[str, Any]]:
    """One result per round; NaN stands for a failed run (no ``jobs_per_s``)."""
    return [{"load1": 10.0} if math.isnan(r) else {"jobs_per_s": r, "load1": 10.0}
            for r in rates]  # fmt: skip


def _sysjobs(db: str, processes: int, slots: int) -> Case:
    env = {"BENCH_SYSJOBS_CONCURRENCY": str(slots)}
    return Case(db, db, f"{processes} proc x {slots} slots", processes, 100, env)


SQLITE = _sysjobs("sysjobs-sqlite", 2, 32)
SQLITE_SMALL = _sysjobs("sysjobs-sqlite", 1, 8)
PG = _sysjobs("sysjobs-postgresql", 2, 32)
PROC_1 = Case("procrastinate", "procrastinate", "concurrency 1")
PROC_8 = Case("procrastinate", "procrastinate", "concurrency 8")
PGQ = Case("pgqueuer", "pgqueuer", "batch 50")
BEFORE = Case("sysjobs-sqlite (before)", "sysjobs-sqlite", "2 proc x 32 slots", 2, 100,
              {"BENCH_SYSJOBS_CONCURRENCY": "32"})  # fmt: skip


def test_a_systems_best_setting_is_the_one_with_the_highest_median() -> None:
    per = {SQLITE.key: _runs(500, 900, 600), SQLITE_SMALL.key: _runs(1000, 400, 450),
           PROC_1.key: _runs(100, 100, 100), PROC_8.key: _runs(90, 150, 120)}  # fmt: skip

    chosen = best(per, [SQLITE, SQLITE_SMALL, PROC_1, PROC_8])

    assert chosen == {"sysjobs-sqlite": SQLITE, "procrastinate": PROC_8}


def test_ratios_pair_the_same_round_and_skip_a_failed_run() -> None:
    ratio = paired([400.0, float("nan"), 900.0], [100.0, 100.0, 300.0])

    assert ratio == {"median": 3.5, "min": 3.0, "max": 4.0}


def test_a_system_whose_every_run_failed_has_no_best_and_no_ratio() -> None:
    per = {SQLITE.key: _runs(800, 800), PROC_1.key: _runs(float("nan"), float("nan"))}

    out = summarize(per, [SQLITE, PROC_1])

    assert "procrastinate" not in out["best"]
    assert out["goals"][0] == {"system": "sysjobs-sqlite", "peer": "procrastinate",
                               "bound": 2.0, "ratio": None, "met": False}  # fmt: skip


def test_goals_are_met_by_the_median_of_the_paired_ratios_against_each_peers_best() -> None:
    per = {SQLITE.key: _runs(300, 500, 700), PG.key: _runs(300, 300, 300),
           PROC_1.key: _runs(100, 100, 100), PROC_8.key: _runs(150, 200, 200),
           PGQ.key: _runs(3000, 3000, 3000)}  # fmt: skip

    goals = summarize(per, [SQLITE, PG, PROC_1, PROC_8, PGQ])["goals"]

    verdicts = {(g["system"], g["peer"]): (g["ratio"]["median"], g["met"]) for g in goals}
    assert verdicts == {
        ("sysjobs-sqlite", "procrastinate"): (2.5, True),  # 2.0, 2.5, 3.5 against concurrency 8
        ("sysjobs-postgresql", "procrastinate"): (1.5, False),
        ("sysjobs-postgresql", "pgqueuer"): (0.1, False),
    }


def test_the_other_checkout_is_compared_at_the_shared_default_setting() -> None:
    per = {SQLITE.key: _runs(900, 1100), SQLITE_SMALL.key: _runs(2000, 2000),
           BEFORE.key: _runs(1000, 1000)}  # fmt: skip

    out = summarize(per, [SQLITE, SQLITE_SMALL, BEFORE])

    ratio = out["now_over_before"]["sysjobs-sqlite"]
    assert {k: ratio[k] for k in ("median", "min", "max")} == {"median": 1.0, "min": 0.9, "max": 1.1}
    assert ratio["rounds"] == [0.9, 1.1]


def test_the_cpu_a_job_is_compared_round_by_round_beside_the_rate() -> None:
    def runs(*cpu: dict[str, float]) -> list[dict[str, Any]]:
        return [{"jobs_per_s": 1000.0, "load1": 1.0, "cpu_us_per_job": c} for c in cpu]

    per = {SQLITE.key: runs({"workers": 300.0, "server": 0.0, "driver": 50.0},
                            {"workers": 330.0, "server": 0.0, "driver": 50.0}),
           BEFORE.key: runs({"workers": 300.0, "server": 0.0, "driver": 40.0},
                            {"workers": 300.0, "server": 0.0, "driver": 50.0})}  # fmt: skip

    cpu = summarize(per, [SQLITE, BEFORE])["now_over_before"]["sysjobs-sqlite"]["cpu"]

    assert cpu["workers"]["rounds"] == [1.0, 1.1]
    assert cpu["workers"]["now_us"] == [300.0, 330.0] and cpu["workers"]["before_us"] == [300.0, 300.0]
    assert cpu["engine"]["median"] == 1.05
    assert cpu["driver"]["rounds"] == [1.25, 1.0]
