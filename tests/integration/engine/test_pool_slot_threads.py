"""A pool's slot threads start with it and run its jobs for its whole life, then end.

Starting a thread maps its stack (8 MiB of the process's data size), and the recycling rule
on data growth reads that size around every script run: a thread started while runs were
open counted against their contexts. The pool starts one thread per slot before it claims
anything, hands each claimed job to a parked one, and starts no thread while its slots
suffice (``sysjobs.worker.slots``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from sysjobs.jobs import Engine, JobContext, JobType
from tests.integration.engine.helpers import running_pool


class _Empty(BaseModel):
    pass


class _Threads:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ran: dict[str, int] = {}

    def record(self, ctx: JobContext, _data: _Empty) -> None:
        with self.lock:
            self.ran[ctx.job.id] = threading.get_ident()


@pytest.fixture
def threads(engine: Engine) -> Iterator[_Threads]:
    seen = _Threads()
    engine.register(JobType("WHICH_THREAD", _Empty, seen.record))
    yield seen


def _slot_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("sysjobs-slot-")}


def test_every_job_runs_in_a_slot_thread_started_with_the_pool(
    engine: Engine, threads: _Threads
) -> None:
    before = _slot_threads()
    with running_pool(engine, concurrency=3):
        started = _slot_threads() - before
        assert len(started) == 3, "one thread per slot, started before the first claim"
        for _ in range(4):  # batches: the slots' chains end and start again between them
            jobs = engine.enqueue_many("WHICH_THREAD", [{} for _ in range(15)])
            for job in jobs:
                assert engine.wait(job.id, ["FINISHED"], 30).status == "FINISHED"
        assert len(threads.ran) == 60
        assert set(threads.ran.values()) <= {t.ident for t in started}
        assert _slot_threads() - before == started, "no thread was started for the jobs"
    assert not any(t.is_alive() for t in started), "stop() returns once the slots' threads ended"
