"""The CLI as a user runs it: ``sysjobs …`` in a temporary folder with ``--db``.

Jobs are made by a host in the test process (with a ``STEPS`` type whose progress moves),
and the CLI reads and changes them through the same database. Most calls run the console
script's entry point in-process (see tests/acceptance/inprocess.py); ``Cli.process`` and
``Cli.popen`` run it as a separate process, for the few end-to-end checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from sysjobs.host import Host
from sysjobs.jobs import JobContext, JobType
from tests.acceptance.inprocess import Ran, sysjobs_in_process


class Steps(BaseModel):
    steps: int = 10
    step_s: float = 0.1


def steps(ctx: JobContext, data: Steps) -> None:
    """Units of work with a checkpoint after each; stops between units when asked."""
    done = int(ctx.checkpoint.get("done", 0))
    while done < data.steps:
        if ctx.should_stop():
            return
        time.sleep(data.step_s)
        done += 1
        ctx.save_checkpoint({"done": done})
        ctx.set_progress(done * 100 // data.steps)
        ctx.log_info(f"step {done} of {data.steps}")
    ctx.set_results({"done": done})


STEPS = JobType("STEPS", Steps, steps)


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    """A host on the test database that knows STEPS."""
    with Host(db_url, job_types=[STEPS]) as opened:
        yield opened


class Cli:
    """Runs ``sysjobs`` in ``cwd`` against one database."""

    def __init__(self, db_url: str, cwd: Path) -> None:
        self.db_url, self.cwd = db_url, cwd

    def __call__(self, *args: str) -> Ran:
        """``sysjobs ARGS --db URL`` in-process."""
        return sysjobs_in_process(*args, "--db", self.db_url, cwd=self.cwd, env={"HOME": str(self.cwd)})

    def process(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``python -m sysjobs.cli ARGS --db URL`` as a separate process."""
        return subprocess.run(
            [sys.executable, "-m", "sysjobs.cli", *args, "--db", self.db_url],
            capture_output=True, text=True, timeout=timeout, cwd=self.cwd,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(self.cwd), **_checkout()},
        )  # fmt: skip

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "sysjobs.cli", *args, "--db", self.db_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.cwd,
        )  # fmt: skip


def _checkout() -> dict[str, str]:
    """``PYTHONPATH`` when set: the CLI must run the checkout under test (a git worktree),
    not whichever copy the virtualenv's editable install points at."""
    path = os.environ.get("PYTHONPATH")
    return {} if path is None else {"PYTHONPATH": path}


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    return Cli(db_url, tmp_path)
