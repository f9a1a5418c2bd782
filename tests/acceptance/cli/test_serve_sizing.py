"""``serve`` and ``worker`` size their worker processes to the machine: one per CPU this
process may use, 1 to ``MAX_DEFAULT_PROCESSES`` — a ``serve`` once ran two jobs at a time
whatever the machine. The registry shows what a started ``serve`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sysjobs.cli.options import MAX_DEFAULT_PROCESSES, default_processes, usable_cpus
from sysjobs.jobs import Engine
from sysjobs.jobs.workers import WorkerInfo, list_workers
from tests.acceptance.worker.waits import registered


@pytest.mark.parametrize(("cpus", "processes"), [
    (1, 1), (2, 2), (4, 4), (MAX_DEFAULT_PROCESSES, MAX_DEFAULT_PROCESSES),
    (MAX_DEFAULT_PROCESSES + 1, MAX_DEFAULT_PROCESSES), (256, MAX_DEFAULT_PROCESSES), (0, 1),
])  # fmt: skip
def test_the_default_is_one_process_per_cpu_within_bounds(cpus: int, processes: int) -> None:
    assert default_processes(cpus) == processes


def test_the_cpus_counted_are_those_this_process_may_use() -> None:
    assert usable_cpus() == len(os.sched_getaffinity(0))
    assert default_processes() == max(1, min(MAX_DEFAULT_PROCESSES, usable_cpus()))


def test_serve_without_workers_starts_one_registered_pool_per_cpu(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sysjobs.cli", "serve", "--port", "0", "--db", url,
         "--token", "s3cret", "--slots", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        seen = _registered(url, default_processes(), proc)
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    assert [w.slots for w in seen] == [3] * default_processes()
    assert len({w.pid for w in seen}) == default_processes() and proc.pid not in {
        w.pid for w in seen}  # worker processes, not the server
    with Engine.open(url) as engine:
        assert list_workers(engine) == []  # a clean stop took every row away


def _registered(url: str, count: int, proc: subprocess.Popen[str]) -> list[WorkerInfo]:
    """The registry's rows once ``count`` pools registered (the server is still up)."""
    assert proc.stdout is not None
    assert "sysjobs dashboard on" in proc.stdout.readline()  # migrated, now starting workers

    def serving() -> None:
        assert proc.poll() is None, proc.communicate()[1]

    with Engine.open(url, migrate=False) as engine:
        return registered(engine, count, check=serving)
