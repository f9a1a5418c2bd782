"""Scripts that would kill a process run in a child: the host survives and says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.runtime import Limits, Outcome
from sysjobs.runtime.launcher import Launcher
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory, classify_exit

FACTORY = SandboxFactory("sysjobs.host:core_sandbox", {"pool_size": 0})
#: A small V8 heap: the child's old space is capped at twice that (64 MB), so one huge
#: allocation ends it at once, where the default 512 MB took seconds of garbage collection.
SMALL_HEAP = 32 * 1024 * 1024
#: One huge allocation: 2 ** 25 doubles, a 256 MB backing store, four times that old space.
ARRAY_BOMB = "new Array(2 ** 25).fill(1.5); 1"


#: The module's limits: small log caps (64 KB a run, 16 KB a line) that only the flood test
#: reaches — every other script logs a few bytes — and a 30 s deadline that no script here
#: is meant to reach (the timeout tests pass their own): a replacement child's start on a
#: loaded machine stays within it.
LIMITS = Limits(timeout_s=30.0, heap_bytes=SMALL_HEAP, max_log_bytes=64 * 1024,
                max_log_line_bytes=16 * 1024)  # fmt: skip


@pytest.fixture(scope="module")
def process_sandbox(launcher: Launcher) -> Iterator[ProcessSandbox]:
    sandbox = ProcessSandbox(FACTORY, LIMITS, launcher=launcher)
    yield sandbox
    sandbox.close()


def assert_next_script_runs(sandbox: ProcessSandbox) -> None:
    result = sandbox.run("log('alive'); 6 * 7")
    assert (result.outcome, result.value, result.logs) == (Outcome.OK, 42, ["alive"])


def test_a_script_runs_in_the_child_and_streams_its_log_lines(process_sandbox: ProcessSandbox) -> None:
    seen: list[str] = []
    result = process_sandbox.run("log('one'); log('two'); 'done'", log_sink=seen.append)
    assert (result.outcome, result.value, result.logs, seen) == (
        Outcome.OK, "done", ["one", "two"], ["one", "two"]
    )


def test_one_huge_allocation_is_a_memory_limit_and_the_child_is_replaced(
    process_sandbox: ProcessSandbox,
) -> None:
    result = process_sandbox.run(ARRAY_BOMB, timeout_s=30)
    assert result.outcome is Outcome.MEMORY_LIMIT
    assert result.error is not None and result.error.code == "memoryLimit"
    assert_next_script_runs(process_sandbox)


def test_array_buffer_bomb_hits_the_data_limit(process_sandbox: ProcessSandbox) -> None:
    source = "var keep = []; for (var i = 0; i < 64; i++) keep.push(new ArrayBuffer(256 * 1024 * 1024)); 1"
    result = process_sandbox.run(source)
    assert result.outcome is Outcome.MEMORY_LIMIT
    assert result.error is not None and "allocate" in result.error.message
    assert_next_script_runs(process_sandbox)


def test_timeouts_are_enforced_in_the_child(process_sandbox: ProcessSandbox) -> None:
    result = process_sandbox.run("while (true) {}", timeout_s=0.5)
    assert result.outcome is Outcome.TIMEOUT
    assert_next_script_runs(process_sandbox)


@pytest.mark.parametrize(
    ("exitcode", "stderr", "outcome"),
    [
        (-5, "# Fatal JavaScript out of memory: CALL_AND_RETRY_LAST", Outcome.MEMORY_LIMIT),
        (133, "Fatal JavaScript out of memory", Outcome.MEMORY_LIMIT),
        (-9, "", Outcome.MEMORY_LIMIT),
        (-11, "", Outcome.CRASHED),
        (139, "", Outcome.CRASHED),
        (-6, "some assertion", Outcome.CRASHED),
        # A trap with no report of V8's before it: the native allocator out of memory.
        (-5, "", Outcome.MEMORY_LIMIT),
        (133, "a warning the child wrote earlier\n", Outcome.MEMORY_LIMIT),
        # A trap after V8's report of a failed check: a crash, not memory.
        (-5, "#\n# Fatal error in , line 0\n# Check failed: x.\n", Outcome.CRASHED),
        (-6, "", Outcome.CRASHED),
        (-4, "", Outcome.CRASHED),
    ],
)
def test_child_deaths_map_to_outcomes(exitcode: int, stderr: str, outcome: Outcome) -> None:
    assert classify_exit(exitcode, stderr) is outcome


def test_log_lines_a_script_leaves_to_thens_reach_its_result_every_time(
    process_sandbox: ProcessSandbox,
) -> None:
    script = "Promise.resolve().then(() => log('a')); Promise.resolve().then(() => log('b')); 1"
    for _ in range(50):
        seen: list[str] = []
        result = process_sandbox.run(script, log_sink=seen.append)
        assert (result.outcome, result.logs, seen) == (Outcome.OK, ["a", "b"], ["a", "b"])


def test_a_loop_of_host_calls_left_behind_ends_its_run_not_the_child(
    process_sandbox: ProcessSandbox,
) -> None:
    leftover = "(async function () { for (;;) { await null; log('leaked'); } })(); 1"
    for _ in range(10):
        result = process_sandbox.run(leftover, timeout_s=0.2)
        assert result.outcome is Outcome.TIMEOUT
        assert_next_script_runs(process_sandbox)


def test_a_child_flooding_log_before_it_dies_leaves_the_parent_a_capped_capture(
    process_sandbox: ProcessSandbox,
) -> None:
    # The parent keeps the lines of a run whose child died (nothing else reports them):
    # bounded like the child's own capture — lines cut with a marker, bytes capped —
    # while every line still streams to the caller's sink.
    flood = "for (var i = 0; i < 40; i++) log('x'.repeat(100 * 1024)); " + ARRAY_BOMB
    streamed: list[int] = []
    result = process_sandbox.run(flood, log_sink=lambda line: streamed.append(len(line)))
    assert result.outcome is Outcome.MEMORY_LIMIT, result
    kept = sum(len(line.encode("utf-8")) for line in result.logs)
    assert kept <= LIMITS.max_log_bytes, kept
    assert result.logs and all(line.endswith("more bytes cut]") for line in result.logs)
    assert result.logs_dropped == 40 - len(result.logs) and result.logs_dropped > 0
    assert result.logs_dropped_bytes >= 40 * 100 * 1024 - kept
    assert streamed == [100 * 1024] * 40
    assert_next_script_runs(process_sandbox)
