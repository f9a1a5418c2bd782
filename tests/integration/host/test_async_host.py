"""From async code: ``Host.arun`` / ``Host.wait_for_job`` / ``Host.arun_in_job`` never block
the event loop, and a cancelled await does not leave a script running.

Each script here waits in a ``sys.gate`` call until a concurrent asyncio task has ticked
a number of times: if the loop were blocked while the script runs, that task could not
tick, and the gate would give up (``opened`` false). The asserts count ticks against
those events — no wall-clock thresholds.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from sysjobs.errors import Timeout
from sysjobs.host import Host
from sysjobs.runtime import Namespace, Operation
from sysjobs.runtime.namespace import CallContext

TICKS = 5
GATE_PRELUDE = (
    "(function (host) { return {"
    " wait: function () { return host.call('wait', {}); },"
    " started: function () { return host.call('started', {}); } }; })"
)


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class Gate:
    """Opened by the ticking task; the script's ``sys.gate.wait()`` blocks until then."""

    opened: threading.Event = field(default_factory=threading.Event)
    started: threading.Event = field(default_factory=threading.Event)

    def namespace(self) -> Namespace:
        def wait(ctx: CallContext, args: Empty) -> bool:
            return self.opened.wait(timeout=ctx.remaining())

        def started(ctx: CallContext, args: Empty) -> None:
            self.started.set()

        return Namespace(name="gate", prelude=GATE_PRELUDE, operations=(
            Operation("wait", Empty, wait), Operation("started", Empty, started),
        ))  # fmt: skip


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def host(tmp_path: Path, gate: Gate) -> Iterator[Host]:
    with Host(f"sqlite:///{tmp_path / 'async.db'}", namespaces=[gate.namespace()],
              pool_size=0) as h:  # fmt: skip
        yield h


async def tick_then_open(gate: Gate, ticks: list[int]) -> None:
    """Tick (yield to the loop) ``TICKS`` times, then open the gate, then keep ticking."""
    while True:
        await asyncio.sleep(0)
        ticks.append(len(ticks))
        if len(ticks) == TICKS:
            gate.opened.set()


async def while_ticking(gate: Gate, work: asyncio.Future[object] | object) -> tuple[object, int]:
    ticks: list[int] = []
    ticker = asyncio.create_task(tick_then_open(gate, ticks))
    try:
        result = await work  # type: ignore[misc]
    finally:
        ticker.cancel()
    return result, len(ticks)


def test_the_event_loop_keeps_running_while_a_script_runs(host: Host, gate: Gate) -> None:
    async def main() -> tuple[object, int]:
        return await while_ticking(gate, host.arun("sys.gate.wait() ? 'opened' : 'blocked'",
                                                   timeout_s=30))  # fmt: skip

    result, ticks = asyncio.run(main())
    assert result.value == "opened"  # type: ignore[attr-defined]
    assert ticks >= TICKS  # the loop ticked before the script (waiting for it) could end


def test_an_async_run_reports_errors_with_the_scripts_name(host: Host) -> None:
    result = asyncio.run(host.arun("\n  null.x", name="handler.js"))
    assert result.error is not None and "handler.js:2:8" in (result.error.stack or "")


def test_waiting_on_a_job_leaves_the_loop_free_until_the_job_ends(host: Host, gate: Gate) -> None:
    async def main() -> tuple[object, int]:
        job = host.start_script_job("sys.gate.wait() ? 'opened' : 'blocked'", label="gated")
        return await while_ticking(gate, host.wait_for_job(job.id, timeout_s=60))

    with host.workers(1, in_process=True):
        ended, ticks = asyncio.run(main())
    assert ended.status == "FINISHED"  # type: ignore[attr-defined]
    assert ended.results == {"value": "opened"}  # type: ignore[attr-defined]
    assert ticks >= TICKS


def test_an_async_run_in_a_job_returns_the_ended_job(host: Host) -> None:
    with host.workers(1, in_process=True):
        ended = asyncio.run(host.arun_in_job("log('hi'); 6 * 7", label="answer", wait_s=60))
    assert (ended.status, ended.label, ended.results) == ("FINISHED", "answer", {"value": 42})


def test_a_wait_that_runs_out_raises_timeout_with_the_jobs_status(host: Host) -> None:
    job = host.start_script_job("1", label="never claimed")
    with pytest.raises(Timeout) as raised:
        asyncio.run(host.wait_for_job(job.id, timeout_s=0.05))
    assert raised.value.info == {"jobId": job.id, "status": "PENDING"}


def test_cancelling_an_async_run_terminates_its_script(host: Host, gate: Gate) -> None:
    async def main() -> None:
        run = asyncio.create_task(host.arun("sys.gate.started(); while (true) {}", timeout_s=600))
        await asyncio.get_running_loop().run_in_executor(None, gate.started.wait, 60)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(main())
    for thread in [t for t in threading.enumerate() if t.name == "sysjobs-async"]:
        thread.join(timeout=60)  # terminated: it ends now, not after the 600 s limit
        assert not thread.is_alive()
    assert host.sandbox._active == {}
