"""The samples through the command line users run them with: ``sysjobs run SCRIPT.js``
(with ``--in-job`` where the sample needs a job), on SQLite and PostgreSQL.

A few representative samples only: every sample is judged in full by test_samples_run.py;
this checks that the CLI path gives the same documented output. The console script runs
in-process (tests/acceptance/inprocess.py) except for one sample run end to end. The
in-process runs whose script only starts a job run that job with ``--in-process-workers``
(a worker process is ~1.2 s of CPU per run, most of the run's cost): the end-to-end run
(the same ``wait_for_job`` sample) and the ``--in-job`` run keep the supervised worker
process users get by default.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sysjobs.runtime.launcher import Launcher
from sysjobs.samples import SAMPLES_DIR
from tests.acceptance.inprocess import Ran, sysjobs_in_process

SAMPLES = SAMPLES_DIR


def _run(db_url: str, tmp_path: Path, launcher: Launcher, sample: str, *flags: str) -> Ran:
    """``sysjobs run`` in-process, its script's child forked by ``launcher``."""
    return sysjobs_in_process(
        "run", "--db", db_url, *flags, str(SAMPLES / f"{sample}.js"), cwd=tmp_path,
        launcher=launcher,
    )


def _run_process(
    db_url: str, tmp_path: Path, sample: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", "run", "--db", db_url, *flags,
         str(SAMPLES / f"{sample}.js")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("sample", "flags", "expected"),
    [
        ("wait_for_job", ("--in-process-workers",), [r"job finished!!!"]),
        ("get_current_job_id", ("--in-job",), [r"job id: [0-9a-f]{24}"]),
        ("get_current_job_id", (), [r"job id: null"]),
        ("find_by_id", ("--in-process-workers",), [r"job: Execute action logSomething on companies"]),
    ],
)
def test_sample_prints_its_documented_lines(
    db_url: str, tmp_path: Path, sample: str, flags: tuple[str, ...], expected: list[str],
    launcher: Launcher,
) -> None:
    result = _run(db_url, tmp_path, launcher, sample, *flags)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected), lines
    for pattern, line in zip(expected, lines, strict=True):
        assert re.fullmatch(pattern, line), line


def test_get_current_job_outside_a_job_fails_on_the_documented_null(
    db_url: str, tmp_path: Path, launcher: Launcher
) -> None:
    result = _run(db_url, tmp_path, launcher, "get_current_job")
    assert result.returncode != 0
    assert "null" in result.stderr


def test_a_sample_run_as_a_process_prints_its_documented_line(
    db_url: str, tmp_path: Path
) -> None:
    """End to end: the process a user starts gives the same output as the in-process runs."""
    result = _run_process(db_url, tmp_path, "wait_for_job")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["job finished!!!"]
