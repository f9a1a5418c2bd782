"""Stored text with lone UTF-16 surrogates prints as ``\\udXXX``, never as a traceback.

A JSON column keeps a lone surrogate faithfully on SQLite (``json.dumps`` writes it as an
escape; PostgreSQL's ``jsonb`` refuses it, so only SQLite can hold one). stdout's encoding
cannot write it: ``jobs show``/``ls``/``logs`` escape it, and their ``--json`` output is
still JSON that reads back to the stored value.

``show`` runs as a separate process on *this* checkout's code (``PYTHONPATH``), so the test
checks the code under test rather than whatever ``sysjobs`` the interpreter would find;
the others run the console script in-process, where stdout is strict UTF-8 too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

import sysjobs
from sysjobs.host import Host
from sysjobs.jobs import JobContext, JobType
from tests.acceptance.inprocess import Ran, sysjobs_in_process

CHECKOUT = Path(sysjobs.__file__).resolve().parent.parent


def cli(url: str, cwd: Path, *args: str) -> Ran:
    return sysjobs_in_process(*args, "--db", url, cwd=cwd, env={"HOME": str(cwd)})


def cli_process(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", *args, "--db", url],
        capture_output=True, text=True, timeout=120, cwd=cwd,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(cwd),
             "PYTHONPATH": str(CHECKOUT), "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip


class AnyData(BaseModel):
    model_config = ConfigDict(extra="allow")


def _never(ctx: JobContext, data: AnyData) -> None:
    """Never runs: the job stays PENDING for the CLI to read."""


@pytest.fixture
def stored(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    with Host(url, job_types=[JobType("NOTES", AnyData, _never)]) as host:
        job = host.engine.enqueue("NOTES", {"note": "a\ud800b"})
        host.engine.log_info(job.id, "a line", {"detail": "x\udfffy"})
    return url, job.id


def test_show_prints_a_lone_surrogate_escaped(stored: tuple[str, str], tmp_path: Path) -> None:
    url, job_id = stored
    done = cli_process(url, tmp_path, "jobs", "show", job_id)
    assert done.returncode == 0, done.stderr
    assert "a\\ud800b" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [("jobs", "show", "{id}", "--json"), ("jobs", "ls", "--json")])
def test_json_output_reads_back_to_the_stored_text(
    stored: tuple[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    url, job_id = stored
    done = cli(url, tmp_path, *(part.format(id=job_id) for part in command))
    assert done.returncode == 0, done.stderr
    assert "a\ud800b" in done.stdout.replace("\\ud800", "\ud800")
    parsed = json.loads(done.stdout)
    job = parsed["jobs"][0] if "jobs" in parsed else parsed
    assert job["data"]["note"] == "a\ud800b"


def test_logs_json_and_table_print_without_a_traceback(
    stored: tuple[str, str], tmp_path: Path
) -> None:
    url, job_id = stored
    as_json = cli(url, tmp_path, "jobs", "logs", job_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    # The engine keeps a lone surrogate of a log line's info as the six characters \udXXX.
    assert json.loads(as_json.stdout)["additionalInfo"] == {"detail": "x\\udfffy"}
    table = cli(url, tmp_path, "jobs", "logs", job_id)
    assert table.returncode == 0 and "a line" in table.stdout, table.stderr
