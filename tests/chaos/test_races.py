"""Control verbs racing the worker, many times with random timing: cancel racing finish,
stop racing finish, resume racing cancel. Each job ends in exactly one end state, never
moves out of FINISHED/CANCELED, and no unit of work runs twice (stop/resume continue from
the checkpoint)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from sysjobs.errors import SysError
from sysjobs.jobs import Engine
from sysjobs.worker.pool import WorkerPool
from tests.chaos.audit import audit, fault, wait_all_ended
from tests.chaos.conftest import chaos_engine

ITERATIONS = 30


@pytest.fixture
def pool_engine(db_url: str) -> Iterator[Engine]:
    with chaos_engine(db_url, lease_s=5.0, stop_grace_s=2.0) as engine:
        pool = WorkerPool(engine, concurrency=4, lease_s=5.0).start()
        try:
            yield engine
        finally:
            pool.stop(grace_s=2.0)


def attempt(verb: Callable[[str], object], job_id: str) -> bool:
    """Apply a control verb; False when the job's status refused it (it lost the race)."""
    try:
        verb(job_id)
        return True
    except SysError:
        return False


def late(delay: float, verb: Callable[[str], object], job_id: str) -> None:
    time.sleep(delay)
    attempt(verb, job_id)


def assert_units_once(engine: Engine, job_id: str) -> None:
    steps = Counter(e.message for e in engine.logs(job_id, {}) if " step " in e.message)
    assert all(count == 1 for count in steps.values()), steps


def settle(engine: Engine, ids: list[str], db_url: str) -> Counter[str]:
    wait_all_ended(engine, ids, 60)
    report = audit(db_url, ids)
    report.assert_clean()
    for job_id in ids:
        assert_units_once(engine, job_id)
    return report.statuses


def test_cancel_racing_finish(pool_engine: Engine, db_url: str) -> None:
    rng = random.Random(11)
    ids = []
    for n in range(ITERATIONS):
        job = pool_engine.enqueue("CHAOS_UNIT", {"n": n, "lines": 0, "steps": 3,
                                                 "work_s": rng.uniform(0, 0.03)})  # fmt: skip
        time.sleep(rng.uniform(0, 0.04))
        attempt(pool_engine.cancel, job.id)
        fault("cancel racing finish")
        ids.append(job.id)
    statuses = settle(pool_engine, ids, db_url)
    assert set(statuses) <= {"FINISHED", "CANCELED"}


def test_stop_racing_finish_then_resume_continues(pool_engine: Engine, db_url: str) -> None:
    rng = random.Random(12)
    ids = []
    for n in range(ITERATIONS):
        job = pool_engine.enqueue("CHAOS_UNIT", {"n": n, "lines": 0, "steps": 4,
                                                 "work_s": rng.uniform(0, 0.04)})  # fmt: skip
        time.sleep(rng.uniform(0, 0.04))
        attempt(pool_engine.stop, job.id)
        fault("stop racing finish")
        ids.append(job.id)
    wait_all_ended(pool_engine, ids, 60)
    stopped = [i for i in ids if pool_engine.require(i).status == "STOPPED"]
    for job_id in stopped:
        assert pool_engine.resume(job_id).status == "PENDING"
    statuses = settle(pool_engine, ids, db_url)
    assert statuses == Counter({"FINISHED": ITERATIONS})
    for job_id in ids:  # every unit ran, each once, across the stop and the resume
        steps = [e.message for e in pool_engine.logs(job_id, {}) if " step " in e.message]
        n = pool_engine.require(job_id).data["n"]
        assert steps == [f"unit {n} step {k}" for k in range(1, 5)]


def test_resume_racing_cancel(pool_engine: Engine, db_url: str) -> None:
    rng = random.Random(13)
    ids = []
    for n in range(ITERATIONS // 2):
        job = pool_engine.enqueue("CHAOS_UNIT", {"n": n, "lines": 0, "steps": 20, "work_s": 0.4})
        pool_engine.wait(job.id, ["RUNNING"], 30)
        pool_engine.stop(job.id)
        pool_engine.wait(job.id, ["STOPPED"], 30)
        delay = rng.uniform(0, 0.02)
        racers = [
            threading.Thread(target=attempt, args=(pool_engine.resume, job.id)),
            threading.Thread(target=late, args=(delay, pool_engine.cancel, job.id)),
        ]
        rng.shuffle(racers)
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        fault("resume racing cancel")
        ids.append(job.id)
    statuses = settle(pool_engine, ids, db_url)
    assert set(statuses) <= {"FINISHED", "CANCELED"}
