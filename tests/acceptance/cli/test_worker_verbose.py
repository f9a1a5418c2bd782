"""``sysjobs worker -v``: a log line per job — when it starts, and how it ended (its id,
type, status and how long the run took)."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

import sysjobs.worker
from sysjobs.host import Host
from sysjobs.worker.joblines import LOGGER, JobLines, log_jobs
from sysjobs.worker.processes import WorkerConfig
from tests.acceptance.cli.conftest import Cli


def _ticks(*values: float) -> Any:
    it = iter(values)
    return lambda: next(it)


def test_a_line_when_each_job_starts_and_ends(host: Host, caplog: pytest.LogCaptureFixture) -> None:
    host.engine.hooks.append(JobLines(clock=_ticks(100.0, 101.25)))
    job = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.0})
    with caplog.at_level(logging.INFO, logger=LOGGER), host.workers(1, in_process=True):
        host.engine.wait(job.id, "FINISHED", 30)
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert lines == [f"job {job.id} STEPS started", f"job {job.id} STEPS FINISHED in 1.250s"]


def test_the_end_line_says_errors_and_a_lost_lease(caplog: pytest.LogCaptureFixture) -> None:
    lines = JobLines(clock=_ticks(5.0, 5.5))
    job = SimpleNamespace(id="a" * 24, type="EXECUTE_ACTION", status="FINISHED", has_errors=True)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        lines.job_started(job, "owner")  # type: ignore[arg-type]
        lines.job_ended(job, job.id, "owner")  # type: ignore[arg-type]
        lines.job_ended(None, "b" * 24, "owner")
    assert [r.getMessage() for r in caplog.records] == [
        f"job {'a' * 24} EXECUTE_ACTION started",
        f"job {'a' * 24} EXECUTE_ACTION FINISHED with errors in 0.500s",
        f"job {'b' * 24} ended elsewhere (its lease was lost)",
    ]


def test_log_jobs_adds_the_hook_a_worker_process_runs(host: Host) -> None:
    before = logging.getLogger(LOGGER).level
    try:
        hook = log_jobs(host.engine)
        assert host.engine.hooks[-1] is hook
        assert logging.getLogger(LOGGER).getEffectiveLevel() == logging.INFO
    finally:
        logging.getLogger(LOGGER).setLevel(before)


@pytest.mark.parametrize(("flags", "verbose"), [(("-v",), True), (("--verbose",), True), ((), False)])
def test_worker_v_asks_its_processes_for_the_lines(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], verbose: bool
) -> None:
    configs: list[WorkerConfig] = []

    class Supervisor:
        """Stands for WorkerProcesses: records the config each child would get."""

        def __init__(self, config: WorkerConfig, processes: int, launcher: object = None) -> None:
            configs.append(config)
            url = SimpleNamespace(render_as_string=lambda hide_password: "sqlite:///x.db")
            self.engine = SimpleNamespace(database=SimpleNamespace(url=url))

        def serve_forever(self) -> None:
            pass

    monkeypatch.setattr(sysjobs.worker, "WorkerProcesses", Supervisor)
    done = cli("worker", "-c", "1", *flags)
    assert done.returncode == 0, done.stderr
    assert [c.verbose for c in configs] == [verbose]
