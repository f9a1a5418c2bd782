"""A worker paused (SIGSTOP) past its lease, then resumed: another worker's reaper takes the
job back, and every late write of the paused worker (logs, checkpoint, finish) is refused.
The job ends exactly once — retried elsewhere when its type is idempotent, or ended with
the reason when it is not."""

from __future__ import annotations

import os
import signal
import time

import pytest

from sysjobs.jobs import Engine
from tests.chaos.audit import TALLY, audit, fault, finished_events
from tests.chaos.conftest import chaos_engine, wait_for, worker_processes


def lines_by_pid(engine: Engine, job_id: str) -> list[tuple[int, int, str]]:
    """(pid, timestamp ms, message) of every line a run of the job wrote itself."""
    found = []
    for entry in engine.logs(job_id, {}):
        info = entry.additional_info
        if isinstance(info, dict) and "pid" in info:
            found.append((int(info["pid"]), int(entry.timestamp.timestamp() * 1000), entry.message))
    return found


@pytest.mark.parametrize(
    "job_type", ["CHAOS_UNIT", pytest.param("CHAOS_ONCE", marks=pytest.mark.chaos_heavy)]
)
def test_a_worker_paused_past_its_lease_cannot_write_after_resuming(
    db_url: str, job_type: str
) -> None:
    with chaos_engine(db_url) as engine, worker_processes(db_url, processes=2, concurrency=1):
        job = engine.enqueue(job_type, {"n": 1, "lines": 1, "steps": 40, "work_s": 4.0})
        wait_for(lambda: len(lines_by_pid(engine, job.id)) >= 3, 60, "the job to make progress")
        paused = lines_by_pid(engine, job.id)[0][0]
        os.kill(paused, signal.SIGSTOP)
        fault("SIGSTOP past the lease")
        stopped_at = time.monotonic()
        try:
            # Another worker's reaper sees the lease expire (1 s) and takes the job back.
            wait_for(lambda: any(e.reason and e.reason.startswith("worker lost")
                                 for e in engine.events(job.id)), 30, "the reaper")  # fmt: skip
            TALLY.recovery_s.append(time.monotonic() - stopped_at)
        finally:
            os.kill(paused, signal.SIGCONT)
        ended = engine.wait(job.id, ["FINISHED"], 60)
        time.sleep(1.0)  # let the resumed worker try its late writes
        lost_at = max(int(e.at.timestamp() * 1000) for e in engine.events(job.id)
                      if (e.reason or "").startswith("worker lost"))
        late = [m for pid, ts, m in lines_by_pid(engine, job.id) if pid == paused and ts > lost_at]
        assert late == [], f"writes of the paused worker after it lost the lease: {late}"
        trail = finished_events(db_url, job.id)
        assert [t for _, t, _ in trail].count("FINISHED") == 1
        assert trail[-1][1] == "FINISHED"  # nothing moved it afterwards
        if job_type == "CHAOS_UNIT":  # idempotent: run again elsewhere, to the end
            assert not ended.has_errors and (ended.results or {})["pid"] != paused
            steps = [m for _, _, m in lines_by_pid(engine, job.id) if " step " in m]
            assert steps[-1] == "unit 1 step 40"
        else:  # not idempotent: ended once, with the reason, in its results too
            error = (ended.results or {}).get("error") or {}
            assert ended.has_errors and error.get("code") == "systemException", ended.results
            assert str(error.get("message", "")).startswith("Job lost: "), ended.results
        audit(db_url, [job.id]).assert_clean()
