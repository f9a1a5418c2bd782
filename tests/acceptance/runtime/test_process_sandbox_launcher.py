"""A script's child forked by a pre-imported launcher runs scripts, is told ``memoryLimit``
or ``crashed`` when it dies, and is replaced by a fresh fork — or, the launcher gone, by a
fresh interpreter."""

from __future__ import annotations

import os
import signal

import pytest

from sysjobs.runtime import Limits, Outcome, RunResult
from sysjobs.runtime.launcher import Launcher
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
from sysjobs.worker.processes import LAUNCH_PRELOAD

FACTORY = SandboxFactory("sysjobs.host:core_sandbox", {"pool_size": 0})
#: A small V8 heap: one huge allocation ends the child at once.
LIMITS = Limits(timeout_s=30.0, heap_bytes=32 * 1024 * 1024)
ARRAY_BOMB = "new Array(2 ** 25).fill(1.5); 1"
BUFFER_BOMB = "var keep = []; for (;;) keep.push(new ArrayBuffer(64 * 1024 * 1024)); 1"


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


#: A script that says it started, then runs until its child is ended under it.
SPINS = "log('started'); for (;;) {}"


def _ended_while_running(sandbox: ProcessSandbox, pid: int, signum: int) -> RunResult:
    """A run during which its child ``pid`` gets ``signum``: sent once the script's first
    line arrived, so the child dies inside the run, never between two runs (a child found
    dead as a run starts is replaced without a word, and that run is not a crash)."""
    return sandbox.run(SPINS, log_sink=lambda _line: os.kill(pid, signum))


def _runs(sandbox: ProcessSandbox) -> int:
    """The pid of the child that ran a script."""
    result = sandbox.run("log('alive'); 6 * 7")
    assert (result.outcome, result.value, result.logs) == (Outcome.OK, 42, ["alive"])
    assert sandbox.pid is not None
    return sandbox.pid


def test_a_forked_script_child_runs_and_a_memory_bomb_gets_a_fresh_fork(launcher: Launcher) -> None:
    with ProcessSandbox(FACTORY, LIMITS, launcher=launcher) as sandbox:
        first = _runs(sandbox)
        assert _parent(first) == launcher.proc.pid
        bombed = sandbox.run(ARRAY_BOMB)
        assert bombed.outcome is Outcome.MEMORY_LIMIT, bombed.error
        second = _runs(sandbox)
        assert second != first and _parent(second) == launcher.proc.pid


def test_a_forked_script_child_keeps_its_data_limit(launcher: Launcher) -> None:
    with ProcessSandbox(FACTORY, LIMITS, launcher=launcher) as sandbox:
        result = sandbox.run(BUFFER_BOMB)  # ArrayBuffers: the data limit (1 GiB), not V8's heap
        assert result.outcome is Outcome.MEMORY_LIMIT
        assert result.error is not None and "allocate" in result.error.message
        _runs(sandbox)


@pytest.mark.parametrize(
    ("signum", "outcome", "said"),
    [
        pytest.param(signal.SIGSEGV, Outcome.CRASHED, "signal 11", id="a native crash"),
        # The native allocator's end at the data limit: a trap and no line
        # (``sysjobs.runtime.process.trapped_silently``).
        pytest.param(
            signal.SIGTRAP, Outcome.MEMORY_LIMIT, "ran out of memory", id="a trap with nothing said"
        ),
    ],
)
def test_a_forked_script_child_that_died_is_told_how_and_replaced(
    launcher: Launcher, signum: int, outcome: Outcome, said: str
) -> None:
    with ProcessSandbox(FACTORY, LIMITS, launcher=launcher) as sandbox:
        first = _runs(sandbox)
        result = _ended_while_running(sandbox, first, signum)
        assert result.outcome is outcome
        assert result.error is not None and said in result.error.message
        assert _runs(sandbox) != first


def test_a_killed_launcher_is_started_again_for_the_next_script_child() -> None:
    with Launcher.start(LAUNCH_PRELOAD) as own, ProcessSandbox(
        FACTORY, LIMITS, launcher=own
    ) as sandbox:  # fmt: skip
        first = _runs(sandbox)
        dead = own.proc.pid
        own.proc.kill()
        own.proc.wait()
        assert _runs(sandbox) == first  # the child goes on without its launcher
        result = _ended_while_running(sandbox, first, signal.SIGKILL)
        assert result.outcome is Outcome.CRASHED  # how it ended only its launcher knew
        assert result.error is not None and "its launcher died" in result.error.message
        following = _runs(sandbox)
        assert _parent(following) == own.proc.pid != dead and own.restarts == 1
