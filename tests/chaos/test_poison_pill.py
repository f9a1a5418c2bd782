"""Poison pills: a job that takes its worker process down every time it runs. The
supervisor replaces the worker and takes the job back each time; the job is retried up to
the cap (its type is idempotent) and then ends with the reason — while the other jobs keep
flowing through the replacements."""

from __future__ import annotations

from sysjobs.jobs.registry import IDEMPOTENT_RETRIES
from tests.chaos.audit import TALLY, audit, fault, reasons, wait_all_ended
from tests.chaos.conftest import chaos_engine, heavy_on_postgres, worker_processes


def test_a_poison_pill_ends_after_the_retry_cap_while_other_jobs_flow(db_url: str) -> None:
    heavy_on_postgres(db_url)
    # One slot per process: with more, a job sharing the pill's process dies with it and is
    # charged the same lost run (it cannot be told apart from the culprit).
    with chaos_engine(db_url) as engine, worker_processes(db_url, processes=3, concurrency=1):
        pill = engine.enqueue("CHAOS_CRASH", {})
        others = [j.id for j in engine.enqueue_many(
            "CHAOS_UNIT", [{"n": n, "lines": 2, "work_s": 0.05} for n in range(40)])]  # fmt: skip
        TALLY.recovery_s.append(wait_all_ended(engine, [pill.id, *others], 120))
        ended = engine.require(pill.id)
        runs = [e.message for e in engine.logs(pill.id, {})].count("about to crash")
        fault("poison pill crash", runs)
        assert ended.status == "FINISHED" and ended.has_errors
        assert runs == IDEMPOTENT_RETRIES + 1  # the first run and every retry, no more
        why = reasons(engine, ended)[-1]
        assert "killed by SIGABRT" in why
        assert f"gave up after its worker was lost {IDEMPOTENT_RETRIES + 1} times" in why
        report = audit(db_url, [pill.id, *others], lines_per_run=2)
        report.assert_clean()
        assert report.statuses["FINISHED"] == 41
        hurt = {i: reasons(engine, engine.require(i)) for i in others if engine.require(i).has_errors}
        assert hurt == {}
