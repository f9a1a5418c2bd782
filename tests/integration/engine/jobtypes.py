"""Plain Python job types for the engine tests (no JavaScript needed).

Importable by path so worker *processes* (spawned) can register them too:
``register`` is the ``setup`` hook given to ``WorkerProcesses``.
"""

from __future__ import annotations

import gc
import os
import time

from pydantic import BaseModel

from sysjobs.jobs import Engine, JobContext, JobType


class Empty(BaseModel):
    pass


class Steps(BaseModel):
    steps: int = 10
    step_s: float = 0.02


class Message(BaseModel):
    text: str


class Sleep(BaseModel):
    seconds: float = 30.0


def noop(ctx: JobContext, data: Empty) -> None:
    """Does nothing (throughput, ordering)."""


def record_run(ctx: JobContext, data: Empty) -> None:
    """One log line per execution: the exactly-once check counts them."""
    ctx.log_info(f"ran in {os.getpid()}")


def echo(ctx: JobContext, data: Message) -> None:
    ctx.log_info(data.text)
    ctx.set_results({"echo": data.text})


def fail(ctx: JobContext, data: Message) -> None:
    raise RuntimeError(data.text)


def stepper(ctx: JobContext, data: Steps) -> None:
    """Units of work with a checkpoint after each; stops cooperatively between units."""
    done = int(ctx.checkpoint.get("done", 0))
    while done < data.steps:
        if ctx.should_stop():
            ctx.log_info(f"stopping after {done} steps")
            return
        time.sleep(data.step_s)
        done += 1
        ctx.save_checkpoint({"done": done})
        ctx.set_progress(done * 100 // data.steps)
        ctx.log_info(f"step {done}")
    ctx.set_results({"done": done})


def stubborn(ctx: JobContext, data: Sleep) -> None:
    """Never checks should_stop: only a forced stop (or the end of the sleep) ends it."""
    ctx.log_info("started")
    time.sleep(data.seconds)
    ctx.log_info("woke up")


def until_signalled(ctx: JobContext, _data: Empty) -> None:
    """Runs until its pool signals it — a relayed stop or cancel, a forced end, a shutdown —
    and never reads its own status: only the pool's heartbeat can end it."""
    state = ctx.state
    while not (state.stop_requested.is_set() or state.lost.is_set() or state.shutdown.is_set()):
        time.sleep(0.01)  # (signals are flags a handler polls at its safe points)
    assert ctx.should_stop()  # (signalled: answers without a read, and acknowledges)


def gc_state(ctx: JobContext, _data: Empty) -> None:
    """Says whether this process collects garbage and holds a frozen start-up."""
    ctx.set_results({"collecting": gc.isenabled(), "frozen": gc.get_freeze_count() > 0})


TYPES = [
    JobType("NOOP", Empty, noop),
    JobType("RECORD_RUN", Empty, record_run),
    JobType("ECHO", Message, echo, queue="light"),
    JobType("FAIL", Message, fail),
    JobType("STEPPER", Steps, stepper),
    JobType("STUBBORN", Sleep, stubborn),
    JobType("STUBBORN_IDEMPOTENT", Sleep, stubborn, idempotent=True),
    JobType("HEAVY", Empty, noop, queue="heavy"),
    JobType("GC_STATE", Empty, gc_state),
    JobType("UNTIL_SIGNALLED", Empty, until_signalled),
]


def register(engine: Engine) -> None:
    """Register every test type on ``engine``."""
    for job_type in TYPES:
        engine.register(job_type)
