"""``Host.workers()``: job scripts run in supervised worker processes by default — a memory
bomb ends its job (``memoryLimit``) and its process, never the host — and in the host's own
process only when asked (``in_process=True``, trusted code). Namespaces and job types reach
worker processes as import paths."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from sysjobs.errors import BadRequest
from sysjobs.host import DONE_STATUSES, Host
from sysjobs.jobs import EngineSettings, Job, caps
from sysjobs.runtime import Governance, Limits
from sysjobs.worker import WorkerPool, WorkerProcesses
from sysjobs.worker.processes import QUICK_DEATH_S, death_cause
from tests.acceptance.worker import embedder

WHERE = "tests.acceptance.worker.embedder:where"
SHOUT = "tests.acceptance.worker.embedder:SHOUT"
#: A small V8 heap (its old space is capped at twice that in a worker) ends the bomb sooner.
LIMITS = Limits(heap_bytes=32 * 1024 * 1024)
#: The host's engine settings and governance: worker processes must apply the same.
SETTINGS = EngineSettings(caps=caps.Caps(max_log_lines=20))
GOVERNANCE = Governance(max_jobs_started=3)
ARRAY_BOMB = "new Array(2 ** 25).fill(1.5); 1"
BUFFER_BOMB = (
    "var keep = []; for (var i = 0; i < 64; i++) keep.push(new ArrayBuffer(256 * 1024 * 1024)); 1"
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    url = f"sqlite:///{tmp_path_factory.mktemp('host-workers') / 'h.db'}"
    with Host(url, limits=LIMITS, namespaces=[WHERE], job_types=[SHOUT], pool_size=1,
              settings=SETTINGS, governance=GOVERNANCE) as opened:  # fmt: skip
        yield opened


@pytest.fixture(scope="module")
def workers(host: Host) -> Iterator[WorkerProcesses]:
    with host.workers(2, data_limit_mb=1024, shutdown_grace_s=2.0) as started:
        yield started


def run_job(host: Host, source: str, timeout_s: float = 60.0) -> Job:
    job = host.start_script_job(source, label="test", timeout_s=timeout_s)
    return host.engine.wait(job.id, DONE_STATUSES, timeout_s + 60)


def error_lines(host: Host, job: Job) -> str:
    return " ".join(entry.message for entry in host.engine.logs(job.id, {"level": "ERROR"}))


def assert_serving(host: Host) -> None:
    """The next job finishes, and the host still runs scripts itself."""
    assert run_job(host, "6 * 7").results == {"value": 42}
    assert host.run("6 * 7").value == 42


def test_host_workers_are_worker_processes_by_default(host: Host, workers: WorkerProcesses) -> None:
    assert isinstance(workers, WorkerProcesses) and len(workers.pids()) == 1
    assert os.getpid() not in workers.pids()


def test_a_job_script_runs_in_a_worker_process_with_a_namespace_given_by_import_path(
    host: Host, workers: WorkerProcesses
) -> None:
    job = run_job(host, "sys.where.pid()")
    assert job.status == "FINISHED", job.results
    assert job.results is not None and job.results["value"] in workers.pids()
    assert host.run("sys.where.pid()").value == os.getpid()  # a direct run: this process


def test_a_job_type_given_by_import_path_runs_in_the_worker_process(
    host: Host, workers: WorkerProcesses
) -> None:
    job = host.engine.wait(host.engine.enqueue("SHOUT", {"text": "hi"}).id, DONE_STATUSES, 60)
    assert job.results is not None and job.results["shout"] == "HI"
    assert job.results["pid"] in workers.pids()


def test_worker_processes_apply_the_hosts_caps_and_governance(
    host: Host, workers: WorkerProcesses
) -> None:
    logs = run_job(host, "for (var i = 0; i < 50; i++) log('line ' + i); 1")
    lines = [entry.message for entry in host.engine.logs(logs.id, {"_size": 1000})]
    assert len(lines) == 21 and lines.count(caps.log_notice(20)) == 1, lines
    starts = run_job(host, "for (;;) sys.data.delete('companies', {name: '\"no such\"'})")
    assert (starts.results or {})["error"]["code"] == "limitExceeded", starts.results
    assert host.engine.find({"type": "DELETE_RECORDS", "_size": 100}).count() == 3


def test_an_array_bomb_ends_its_job_as_memory_limit_and_its_process_not_the_host(
    host: Host, workers: WorkerProcesses
) -> None:
    (before,) = workers.pids()
    ended = run_job(host, ARRAY_BOMB, timeout_s=120)
    assert (ended.status, ended.has_errors) == ("FINISHED", True)
    reason = error_lines(host, ended)
    assert f"worker process {before} died" in reason and "memoryLimit" in reason, reason
    assert_serving(host)
    assert workers.pids() != [before]  # replaced


def test_an_array_buffer_bomb_is_a_memory_limit_and_the_worker_process_survives(
    host: Host, workers: WorkerProcesses
) -> None:
    assert_serving(host)  # a worker process is up (it may be a fresh replacement)
    pids = workers.pids()
    ended = run_job(host, BUFFER_BOMB)
    assert ended.status == "FINISHED"
    assert (ended.results or {})["error"]["code"] == "memoryLimit", ended.results
    assert "memoryLimit" in error_lines(host, ended)
    assert_serving(host)
    assert workers.pids() == pids  # the data limit made it fail inside V8: no crash


def test_in_process_workers_are_an_explicit_opt_in_that_takes_namespace_objects(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'in.db'}"
    with (
        Host(url, namespaces=[embedder.where], pool_size=1) as host,
        host.workers(1, in_process=True) as pool,
    ):
        assert isinstance(pool, WorkerPool)
        job = run_job(host, "sys.where.pid()")
    assert job.results == {"value": os.getpid()}


def test_worker_processes_refuse_a_namespace_given_as_an_object(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    with (
        Host(url, namespaces=[embedder.where], pool_size=1) as host,
        pytest.raises(BadRequest) as refused,
    ):
        host.workers(1)
    message = refused.value.message
    assert "'namespaces'" in message and "namespaces: where" in message, message
    assert "'package.module:name'" in message and "in_process=True" in message, message


def test_worker_processes_refuse_a_job_type_given_as_an_object(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    with (
        Host(url, job_types=[embedder.SHOUT], pool_size=1) as host,
        pytest.raises(BadRequest, match=r"'job_types'.*job_types: SHOUT"),
    ):
        host.workers(1)


def test_worker_processes_refuse_an_in_memory_database() -> None:
    with (
        Host("sqlite://", pool_size=1) as host,
        pytest.raises(BadRequest, match=r"'db_url'.*in-memory.*in_process=True"),
    ):
        host.workers(1)


def test_worker_processes_number_at_least_one(tmp_path: Path) -> None:
    with (
        Host(f"sqlite:///{tmp_path / 'n.db'}", pool_size=1) as host,
        pytest.raises(BadRequest, match=r"'processes'.*1 or more"),
    ):
        host.workers(1, processes=0)


def test_a_negative_data_limit_is_a_bad_request(tmp_path: Path) -> None:
    with (
        Host(f"sqlite:///{tmp_path / 'd.db'}", pool_size=1) as host,
        pytest.raises(BadRequest, match=r"'data_limit_mb'.*integer >= 0"),
    ):
        host.workers(1, data_limit_mb=-1)


def test_a_namespace_factory_path_works(tmp_path: Path) -> None:
    path = "tests.acceptance.worker.embedder:make_where"
    with Host(f"sqlite:///{tmp_path / 'f.db'}", namespaces=[path], pool_size=1) as host:
        assert host.run("typeof sys.where.pid()").value == "number"
        assert host.extensions.namespace_paths == (path,)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("no_such_module_anywhere:where", "No module named 'no_such_module_anywhere'"),
        ("tests.acceptance.worker.embedder:missing", "has no attribute 'missing'"),
        ("tests.acceptance.worker.embedder:NOT_A_NAMESPACE", "it names a int, not a Namespace"),
        ("tests.acceptance.worker.embedder:broken_factory", "the embedder's factory failed"),
        ("tests.acceptance.worker.embedder:SHOUT", "it names a JobType, not a Namespace"),
        ("", "expected 'package.module:name'"),
        (":", "expected 'package.module:name'"),
        ("no_colon", "expected 'package.module:name'"),
        ("\ud800:x", "No module named '\\ud800'"),
        ("x" * 1_000_000, "expected 'package.module:name'"),
        (42, "Invalid value of type int"),
    ],
    ids=[
        "module",
        "attribute",
        "not-a-namespace",
        "factory-fails",
        "a-job-type",
        "empty",
        "colon",
        "no-colon",
        "lone-surrogate",
        "1MB",
        "not-a-string",
    ],
)
def test_a_namespace_path_that_does_not_name_one_is_a_bad_request(
    tmp_path: Path, given: object, why: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        Host(f"sqlite:///{tmp_path / 'bad.db'}", namespaces=[given], pool_size=1)  # type: ignore[list-item]
    message = refused.value.message
    assert "parameter 'namespaces'" in message and why in message, message
    assert "'package.module:name'" in message
    assert len(message) < 1000 and message.isascii()
    assert not (tmp_path / "bad.db").exists()  # refused before the database was opened


def test_a_job_type_path_that_does_not_name_one_is_a_bad_request(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match=r"parameter 'job_types'.*it names a Namespace"):
        Host(f"sqlite:///{tmp_path / 'bad.db'}", job_types=[WHERE], pool_size=1)


@pytest.mark.parametrize(
    ("code", "tail", "expected"),
    [
        (-5, "#\n# Fatal JavaScript out of memory: Ineffective mark-compacts\n", "memoryLimit"),
        (-6, "Fatal process out of memory: Zone\n", "memoryLimit"),
        (-11, "", "crashed"),
        (-9, "", "crashed"),
        (1, "Traceback (most recent call last):\n", "crashed"),
        # A trap no report of V8's came before: the native allocator out of memory.
        (-5, "", "memoryLimit"),
        (-5, "sysjobs: a line the process logged earlier\n", "memoryLimit"),
        (-5, "#\n# Fatal error in , line 0\n# Check failed: x.\n", "crashed"),
    ],
)
def test_a_dead_worker_process_is_described_by_its_exit_and_its_last_stderr(
    code: int, tail: str, expected: str
) -> None:
    cause = death_cause(1234, code, tail)
    assert cause.startswith("worker process 1234 died (")
    assert f"; {expected}" in cause


def test_children_that_die_at_start_are_restarted_after_a_growing_pause(tmp_path: Path) -> None:
    # A setup hook that fails would otherwise restart its process in a tight loop.
    with Host(f"sqlite:///{tmp_path / 'b.db'}", pool_size=1) as host:
        supervisor = host.workers(1)  # never started: only its restart rule is asked
        now = time.monotonic()
        def child(started: float, *, up: bool = False) -> SimpleNamespace:
            return SimpleNamespace(started=started, came_up=lambda: up)

        quick, old = child(now), child(now - QUICK_DEATH_S)
        pauses = [supervisor._backoff(quick) for _ in range(9)]  # type: ignore[arg-type]
        assert pauses == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
        assert supervisor._backoff(old) == 0.0  # type: ignore[arg-type]
        assert supervisor._backoff(quick) == 0.25  # type: ignore[arg-type]  # counted afresh
        # one that built its start-up and then died (a bomb, a kill) is no failed start
        assert supervisor._backoff(child(now, up=True)) == 0.0  # type: ignore[arg-type]
        assert supervisor._backoff(quick) == 0.25  # type: ignore[arg-type]
