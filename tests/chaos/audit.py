"""The four promises every chaos scenario checks, read straight from the database.

* nothing lost: every job reached an end (FINISHED, STOPPED, CANCELED) within the bound;
* nothing finished twice: at most one transition into FINISHED per job, and none out of
  an end state (the event trail is the witness);
* no log lost: a job whose run completed has every line that run wrote;
* a reason for everything abnormal: a job that ended with errors, or lost, has an ERROR
  line saying why.

Scenarios record what they did in :data:`TALLY`; ``tests/chaos/conftest.py`` prints it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field

import sqlalchemy as sa

from sysjobs.errors import Timeout
from sysjobs.jobs import Engine, Job
from sysjobs.jobs.waiting import MAX_WAIT_IDS

ENDED = ("FINISHED", "STOPPED", "CANCELED")


@dataclass
class Tally:
    """Counters summed over the session (the ``make chaos`` summary)."""

    scenarios: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    jobs: int = 0
    lost: int = 0
    duplicates: int = 0
    logs_lost: int = 0
    recovery_s: list[float] = field(default_factory=list)


TALLY = Tally()


def fault(kind: str, count: int = 1) -> None:
    """Record ``count`` injected faults of ``kind``."""
    TALLY.faults[kind] += count


@dataclass
class Report:
    """What the audit found for one scenario."""

    jobs: int
    lost: list[str]
    duplicates: list[str]
    logs_lost: list[str]
    unexplained: list[str]
    statuses: Counter[str]

    def assert_clean(self) -> None:
        assert self.lost == [], f"jobs lost (not ended): {self.lost[:5]}"
        assert self.duplicates == [], f"jobs finished twice: {self.duplicates[:5]}"
        assert self.logs_lost == [], f"jobs with missing log lines: {self.logs_lost[:5]}"
        assert self.unexplained == [], f"jobs ended abnormally without a reason: {self.unexplained[:5]}"


def wait_all_ended(engine: Engine, ids: Iterable[str], timeout_s: float) -> float:
    """Seconds until every job ended (stops waiting at ``timeout_s``; the audit tells).

    Waits on the jobs' own wake-ups (``Engine.wait_all``: this process's commits, LISTEN,
    the WAL watch, then the safety poll), a watch of at most ``MAX_WAIT_IDS`` jobs at a time.
    """
    started = time.monotonic()
    wanted = list(dict.fromkeys(ids))
    for first in range(0, len(wanted), MAX_WAIT_IDS):
        left = max(0.0, timeout_s - (time.monotonic() - started))
        with suppress(Timeout):
            engine.wait_all(wanted[first : first + MAX_WAIT_IDS], ENDED, left)
    return time.monotonic() - started


def audit(url: str, ids: Iterable[str], *, lines_per_run: int | None = None) -> Report:
    """Check the promises for ``ids`` and add the numbers to :data:`TALLY`."""
    wanted = list(ids)
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            rows = {r.id: r for r in conn.execute(sa.text(
                "SELECT id, status, has_errors, data FROM jobs"))}  # fmt: skip
            events = conn.execute(sa.text(
                "SELECT job_id, from_status, to_status FROM job_events ORDER BY id")).all()  # fmt: skip
            logs = conn.execute(sa.text("SELECT job_id, level, message FROM job_logs")).all()
    finally:
        db.dispose()
    finished: Counter[str] = Counter()
    out_of_end: set[str] = set()
    for job_id, from_status, to_status in events:
        if to_status == "FINISHED":
            finished[job_id] += 1
        if from_status in ("FINISHED", "CANCELED"):
            out_of_end.add(job_id)
    by_job: dict[str, list[tuple[str, str]]] = {}
    for job_id, level, message in logs:
        by_job.setdefault(job_id, []).append((level, message))
    report = Report(len(wanted), [], [], [], [], Counter())
    for job_id in wanted:
        row = rows.get(job_id)
        status = row.status if row is not None else "MISSING"
        report.statuses[status] += 1
        if status not in ENDED:
            report.lost.append(f"{job_id} {status}")
        if finished[job_id] > 1 or job_id in out_of_end:
            report.duplicates.append(job_id)
        lines = by_job.get(job_id, [])
        abnormal = row is not None and row.has_errors and status == "FINISHED"
        if abnormal and not any(level == "ERROR" for level, _ in lines):
            report.unexplained.append(job_id)
        if lines_per_run and status == "FINISHED" and not row.has_errors:
            n = _n_of(row.data)
            have = {m for _, m in lines}
            if any(f"unit {n} line {i}" not in have for i in range(lines_per_run)):
                report.logs_lost.append(job_id)
    TALLY.jobs += report.jobs
    TALLY.lost += len(report.lost)
    TALLY.duplicates += len(report.duplicates)
    TALLY.logs_lost += len(report.logs_lost)
    return report


def _n_of(data: object) -> int:
    if isinstance(data, str):
        import json

        data = json.loads(data)
    return int(data.get("n", 0)) if isinstance(data, dict) else 0


def finished_events(url: str, job_id: str) -> list[tuple[str | None, str, str | None]]:
    """(from, to, reason) of every transition of one job."""
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            return [
                (r.from_status, r.to_status, r.reason)
                for r in conn.execute(
                    sa.text("SELECT from_status, to_status, reason FROM job_events "
                            "WHERE job_id = :j ORDER BY id"), {"j": job_id})
            ]
    finally:
        db.dispose()


def reasons(engine: Engine, job: Job) -> list[str]:
    """The ERROR lines of a job (why it ended abnormally)."""
    return [e.message for e in engine.logs(job.id, {"level": "ERROR"})]
