"""``sysjobs run`` opens what a script uses, when it uses it: a script that starts no job
starts no worker process, one that touches no job or record opens no database, and a
database that cannot be opened is the error of the first call that needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def sysjobs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", *args], capture_output=True, text=True,
        timeout=120, cwd=cwd,
    )  # fmt: skip


def test_a_script_that_touches_no_job_or_record_creates_no_database(tmp_path: Path) -> None:
    script = tmp_path / "hi.js"
    script.write_text("log('hi')")
    done = sysjobs("run", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "hi\n", "")
    assert not (tmp_path / ".sysjobs").exists()


def test_a_database_that_cannot_be_opened_is_the_scripts_error_at_its_first_call(
    tmp_path: Path,
) -> None:
    script = tmp_path / "find.js"
    script.write_text("log('before'); sys.jobs.find({}); log('never')")
    done = sysjobs("run", "--db", "mysql://nowhere/db", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "before\n")
    assert done.stderr.startswith("badRequest: cannot open the database or app: unsupported")
    assert done.stderr.count("\n") == 1


def test_a_missing_app_is_one_line_before_the_script_runs(tmp_path: Path) -> None:
    script = tmp_path / "hi.js"
    script.write_text("log('hi')")
    done = sysjobs("run", "--app", str(tmp_path / "no-app"), str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("badRequest: No app manifest in ")
    assert done.stderr.count("\n") == 1


def test_the_worker_starts_for_the_first_job_and_runs_every_job_the_script_starts(
    tmp_path: Path,
) -> None:
    script = tmp_path / "two.js"
    start = "sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a', param2: 'b'})"
    script.write_text(
        f"log('no job yet'); var a = {start}; var b = {start};\n"
        "sys.jobs.waitForJob(a, 'FINISHED', 60000); sys.jobs.waitForJob(b, 'FINISHED', 60000);\n"
        "log(sys.jobs.findById(a).status() + ' ' + sys.jobs.findById(b).status());\n"
    )
    done = sysjobs("run", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "no job yet\nFINISHED FINISHED\n", "")
