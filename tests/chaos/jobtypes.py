"""Job types of the chaos scenarios, importable by spawned worker processes.

``setup`` is the ``WorkerConfig.setup`` hook: it registers these types on the child's
engine. Every run of a unit writes numbered log lines, so the audit can tell whether
a job's log is complete and how many times it ran.
"""

from __future__ import annotations

import os
import time

from pydantic import BaseModel

from sysjobs.jobs import Engine, JobContext, JobType


class Unit(BaseModel):
    n: int = 0
    #: Log lines written by one run ("unit <n> line <i>").
    lines: int = 3
    #: Seconds of work (split into safe points) before the job ends.
    work_s: float = 0.05
    #: Steps the work is split into (a checkpoint and a stop check after each).
    steps: int = 1
    #: Log "finishing" and wait this long before returning (a window to fault the finish).
    linger_s: float = 0.0


def unit(ctx: JobContext, data: Unit) -> None:
    """Some logs, some work in steps (continued from the checkpoint), one result."""
    pid = os.getpid()
    for i in range(data.lines):
        ctx.log_info(f"unit {data.n} line {i}", {"pid": pid})
    done = int(ctx.checkpoint.get("done", 0))
    while done < data.steps:
        if ctx.should_stop():
            return
        time.sleep(data.work_s / data.steps)
        done += 1
        ctx.save_checkpoint({"done": done})
        ctx.log_info(f"unit {data.n} step {done}", {"pid": pid})
    if data.linger_s:
        ctx.log_info(f"unit {data.n} finishing", {"pid": pid})
        time.sleep(data.linger_s)
    ctx.set_results({"n": data.n, "pid": pid})


class Crash(BaseModel):
    pass


def crash(ctx: JobContext, data: Crash) -> None:
    """A poison pill: takes its worker process down, every time."""
    ctx.log_info("about to crash")
    os.abort()


TYPES = [
    JobType("CHAOS_UNIT", Unit, unit, idempotent=True),
    JobType("CHAOS_ONCE", Unit, unit),
    JobType("CHAOS_CRASH", Crash, crash, idempotent=True),
]


def setup(engine: Engine) -> None:
    """Worker-process hook: register the chaos types."""
    for job_type in TYPES:
        engine.register(job_type)
