"""``sysjobs run``: what runs where. The script runs in a child process of its own (or, with
``--in-job``, as a job in a worker process), the jobs it starts in a supervised worker
process — so a memory bomb is a failure the command reports, never a crash of the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.hostile.conftest import app_dir

#: One huge allocation: 2 ** 25 doubles, a 256 MB backing store, four times the worker
#: process's V8 old space (twice its heap limit below), so V8 ends the process at once.
ARRAY_BOMB = "log('before'); new Array(2 ** 25).fill(1.5); log('never');"
#: The worker process's data limit and V8 heap: what a bomb may take stays small on a shared
#: machine (with the default 256 MB heap, V8 took seconds of garbage collection to give up).
SMALL = {"SYSJOBS_WORKER_DATA_LIMIT_MB": "1024", "SYSJOBS_WORKER_HEAP_MB": "32"}


def sysjobs(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", *args], capture_output=True, text=True,
        timeout=300, cwd=cwd, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_run_in_job_with_a_memory_bomb_reports_the_jobs_failure_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    script = tmp_path / "bomb.js"
    script.write_text(ARRAY_BOMB)
    done = sysjobs("run", "--in-job", "--timeout", "120", str(script), cwd=tmp_path, env=SMALL)
    assert done.returncode == 1, done.stderr
    assert done.stdout == "before\n"
    job_line, line = done.stderr.splitlines()  # its id, its outcome: no V8 crash report
    assert job_line.startswith("job ")
    assert line.startswith("Job lost: worker process ") and "memoryLimit" in line, done.stderr


def test_a_bomb_in_a_job_the_script_starts_ends_that_job_and_the_script_goes_on(
    tmp_path: Path,
) -> None:
    # The script runs in its own child process; the action job it starts runs in the worker
    # process, which the bomb ends: the job ends with the reason, a replacement runs the next.
    app = app_dir(tmp_path / "app", {"bomb": ARRAY_BOMB, "fine": "return 'fine';"})
    script = tmp_path / "starts.js"
    script.write_text(
        "var id = sys.data.executeAction(null, {}, 'bomb', {});\n"
        "sys.jobs.waitForJob(id, 'FINISHED', 240000);\n"
        "log('bomb: ' + sys.jobs.findById(id).status() + ' ' + sys.jobs.findById(id).hasErrors());\n"
        "var logs = sys.jobs.logs(id, {level: 'ERROR'});\n"
        "while (logs.hasNext()) { var m = logs.next().message(); log(m.indexOf('memoryLimit') >= 0); }\n"
        "var next = sys.data.executeAction(null, {}, 'fine', {});\n"
        "sys.jobs.waitForJob(next, 'FINISHED', 120000);\n"
        "log('next: ' + sys.jobs.findById(next).status());\n"
    )
    done = sysjobs("run", "--app", str(app), "--timeout", "280", str(script), cwd=tmp_path,
                   env=SMALL)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "bomb: FINISHED true\ntrue\nnext: FINISHED\n"), (
        done.stderr
    )


def test_run_in_job_with_in_process_workers_still_runs_the_job(tmp_path: Path) -> None:
    script = tmp_path / "in_job.js"
    script.write_text("log('job: ' + sys.jobs.getCurrentJob().label())")
    done = sysjobs("run", "--in-job", "--in-process-workers", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "job: in_job.js\n")
    assert done.stderr.startswith("job ") and done.stderr.count("\n") == 1
