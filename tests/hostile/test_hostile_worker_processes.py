"""Hostile scripts as jobs through spawned worker processes (``sysjobs worker``'s path: the
Host hooks build each process's sandbox): exact codes, the worker survives, the next job
runs — and the worker process was never replaced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.host import Host, limits_to_json
from sysjobs.runtime import Limits
from sysjobs.runtime.launcher import Launcher
from sysjobs.worker import WorkerConfig, WorkerProcesses
from tests.hostile.catalog import ALL, Hostile
from tests.hostile.conftest import DONE

PICKED = {"infinite loop", "deep recursion" , "plain recursion", "thrown object with a code",
          "Error with a code property", "await loop after return", "deeply nested completion value",
          "toJSON on Object.prototype", "strict assignment to sys.jobs", "huge id string",
          "waitForJob on itself"}  # fmt: skip
CHOSEN = [h for h in ALL if h.name in PICKED]


#: A small heap and data limit (a 32 MB heap, whose 64 MB old space the killer's 256 MB array
#: is four times; the default 256 MiB heap took ~20 s of CPU in GC before one huge
#: allocation ended the process): the killer below ends its process at once, the
#: ArrayBuffer bomb reaches its limit after fewer buffers.
SMALL = {"limits": limits_to_json(Limits(heap_bytes=32 * 1024 * 1024)), "data_limit_mb": 1024}


@pytest.fixture(scope="module")
def process_host(
    tmp_path_factory: pytest.TempPathFactory, launcher: Launcher
) -> Iterator[tuple[Host, WorkerProcesses]]:
    """One host and one supervised worker process for the module: each test reads back only
    its own jobs, and the test whose script kills the process leaves the replacement it shows
    serving for the next (whose own pids are read when it starts)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-procs') / 'p.db'}"
    config = WorkerConfig(url, concurrency=2, lease_s=5.0, shutdown_grace_s=2.0,
                          setup="sysjobs.host:worker_setup", setup_args=SMALL,
                          runner_factory="sysjobs.host:worker_runner")  # fmt: skip
    with Host(url) as host:
        supervisor = WorkerProcesses(config, processes=1, launcher=launcher).start()
        try:
            yield host, supervisor
        finally:
            supervisor.stop(timeout_s=10)


def test_the_selection_is_there() -> None:
    assert len(CHOSEN) >= 10


@pytest.mark.parametrize("hostile", CHOSEN, ids=[h.name for h in CHOSEN])
def test_a_hostile_job_in_a_worker_process_ends_with_its_code(
    process_host: tuple[Host, WorkerProcesses], hostile: Hostile
) -> None:
    host, supervisor = process_host
    pids = supervisor.pids()
    job = host.start_script_job(hostile.source, label=hostile.name, timeout_s=hostile.timeout_s)
    ended = host.engine.wait(job.id, DONE, 60)
    code = hostile.job_code or hostile.code
    assert ended.status == "FINISHED"
    if code == "ok":
        assert "error" not in (ended.results or {})
    else:
        assert (ended.results or {})["error"]["code"] == code, ended.results
    nxt = host.engine.wait(host.start_script_job("6 * 7").id, DONE, 60)
    assert nxt.results == {"value": 42}
    assert supervisor.pids() == pids  # the same worker process survived it


def test_an_array_buffer_bomb_in_a_worker_process_is_a_memory_limit(
    process_host: tuple[Host, WorkerProcesses],
) -> None:
    # The worker process's data limit (RLIMIT_DATA) makes the allocations fail inside V8.
    host, supervisor = process_host
    pids = supervisor.pids()
    bomb = "var keep = []; for (var i = 0; i < 64; i++) keep.push(new ArrayBuffer(256 * 1024 * 1024)); 1"
    ended = host.engine.wait(host.start_script_job(bomb, label="bomb").id, DONE, 60)
    assert ended.status == "FINISHED"
    assert (ended.results or {})["error"]["code"] == "memoryLimit", ended.results
    nxt = host.engine.wait(host.start_script_job("6 * 7").id, DONE, 60)
    assert nxt.results == {"value": 42}
    assert supervisor.pids() == pids


def test_a_script_that_kills_its_worker_process_ends_with_a_reason_and_work_goes_on(
    process_host: tuple[Host, WorkerProcesses],
) -> None:
    # One huge allocation is fatal to V8: the worker process dies, the supervisor takes
    # its job back (ending it with the reason) and starts another process.
    host, supervisor = process_host
    first = supervisor.pids()
    # One 256 MB backing store, four times the 64 MB old space: fatal at once.
    killer = host.start_script_job("new Array(2 ** 25).fill(1.5); 1", label="killer", timeout_s=60)
    ended = host.engine.wait(killer.id, DONE, 120)
    assert ended.has_errors
    reasons = " ".join(e.message for e in host.engine.logs(killer.id, {"level": "ERROR"}))
    assert "worker process" in reasons and "died" in reasons, reasons
    nxt = host.engine.wait(host.start_script_job("6 * 7").id, DONE, 60)
    assert nxt.results == {"value": 42}
    assert supervisor.pids() != first
