"""The ``sysjobs worker`` and ``sysjobs db`` commands: a worker runs as a real process (it
runs jobs and stops on SIGTERM); what ends before a worker starts runs in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sysjobs.host import Host
from sysjobs.jobs import EngineSettings
from sysjobs.jobs.workers import list_workers
from tests.acceptance.inprocess import sysjobs_in_process
from tests.acceptance.worker.test_worker_orphans import _exits
from tests.integration.engine.helpers import open_engine

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-m", "sysjobs.cli"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


def test_db_upgrade_creates_the_schema_and_prune_reports_counts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgraded = sysjobs_in_process("db", "upgrade", "--db", url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "up to date" in upgraded.stdout
    pruned = sysjobs_in_process("db", "prune", "--db", url, "--jobs-days", "0", cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.strip() == "pruned 0 job(s) and 0 log line(s)"


def test_sysjobs_worker_runs_jobs_and_exits_cleanly_on_sigterm(db_url: str) -> None:
    with open_engine(db_url, EngineSettings()) as engine:
        job = engine.enqueue("ECHO", {"text": "via the CLI"})
        worker = subprocess.Popen(
            [*CLI, "worker", "--db", db_url, "--concurrency", "1", "--slots", "3",
             "--setup", "tests.integration.engine.jobtypes:register", "--runner", ""],
            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            done = engine.wait(job.id, ["FINISHED"], 60)
            (row,) = list_workers(engine)
            launcher = _parent(row.pid)  # the child was forked by the command's launcher
            assert launcher != worker.pid and _parent(launcher) == worker.pid
        finally:
            worker.send_signal(signal.SIGTERM)
            out, err = worker.communicate(timeout=60)
    assert _exits(row.pid, 30) and _exits(launcher, 30)
    assert done.results == {"echo": "via the CLI"}
    assert worker.returncode == 0, err
    assert "1 process(es), 3 slot(s) each" in out  # both options reached the supervisor


def test_sysjobs_worker_rejects_an_unknown_queue_before_starting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = sysjobs_in_process("worker", "--db", url, "--queues", "mix,fast", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown queue 'fast'" in result.stderr


def test_sysjobs_worker_adds_a_namespace_given_by_import_path(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ns.db'}"
    with Host(url, pool_size=1) as host:
        job = host.start_script_job("typeof sys.where.pid()", label="where")
        worker = subprocess.Popen(
            [*CLI, "worker", "--db", url, "--concurrency", "1", "--slots", "1",
             "--namespace", "tests.acceptance.worker.embedder:where"],
            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            done = host.engine.wait(job.id, ["FINISHED"], 60)
        finally:
            worker.send_signal(signal.SIGTERM)
            _out, err = worker.communicate(timeout=60)
    assert done.results == {"value": "number"}, done.results
    assert worker.returncode == 0, err


def test_sysjobs_worker_rejects_a_namespace_it_cannot_import_before_starting(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = sysjobs_in_process("worker", "--db", url, "--namespace", "no_such_mod:ns", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("badRequest: ") and result.stderr.count("\n") == 1
    assert "Invalid value 'no_such_mod:ns' for parameter '--namespace'" in result.stderr
    assert "Traceback" not in result.stderr
