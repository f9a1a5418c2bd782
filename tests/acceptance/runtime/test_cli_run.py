"""``sysjobs run SCRIPT.js``: log lines on stdout, ``code: message`` on stderr, exit codes.

Most run the console script in-process (tests/acceptance/inprocess.py); two run it as the
process a user starts, end to end. One ``--in-job`` run starts its own worker process, as a
user's does; the others that only read what ``--in-job`` prints leave their jobs
(``--no-worker``) to one worker process this module shares on a database of its own.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.host import Host
from sysjobs.runtime.launcher import Launcher
from tests.acceptance.inprocess import Ran, sysjobs_in_process


def sysjobs(*args: str, cwd: Path, launcher: Launcher | None = None) -> Ran:
    """The CLI in-process, in ``cwd`` (where its embedded ./.sysjobs/ database lives);
    ``sysjobs run``'s script child forked by ``launcher``."""
    return sysjobs_in_process(*args, cwd=cwd, launcher=launcher)


def sysjobs_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a separate process, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", *args], capture_output=True, text=True,
        timeout=120, cwd=cwd,
    )


@pytest.fixture(scope="module")
def shared_worker(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, launcher: Launcher
) -> Iterator[str]:
    """A migrated SQLite database (the embedded default's kind) served by one worker process
    of the default app, as ``sysjobs run --in-job`` would start for itself: its URL."""
    path = tmp_path_factory.mktemp("in-job") / "sysjobs.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    with Host(url, launcher=launcher) as host, host.workers(relay_stderr=False):
        yield url


def in_job(*args: str, url: str, cwd: Path) -> Ran:
    """``sysjobs run --in-job ARGS`` on the shared database, its job left to the shared worker."""
    return sysjobs("run", "--in-job", "--no-worker", "--db", url, *args, cwd=cwd)


def test_run_prints_log_lines_and_exits_zero(tmp_path: Path) -> None:
    script = tmp_path / "hello.js"
    script.write_text("log('hello'); log('world', 1)")
    done = sysjobs_process("run", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "hello\nworld 1\n", "")


def test_uncaught_error_prints_code_and_message_and_exits_non_zero(tmp_path: Path, launcher: Launcher) -> None:
    script = tmp_path / "bad.js"
    script.write_text("log('before'); sys.exceptions.throwException('badRequest', 'Invalid id')")
    done = sysjobs("run", str(script), cwd=tmp_path, launcher=launcher)
    assert done.returncode == 1
    assert done.stdout == "before\n"
    assert done.stderr == "badRequest: Invalid id\n"


def test_json_prints_the_run_result(tmp_path: Path, launcher: Launcher) -> None:
    script = tmp_path / "value.js"
    script.write_text("log('x'); ({answer: 42})")
    done = sysjobs("run", "--json", str(script), cwd=tmp_path, launcher=launcher)
    result = json.loads(done.stdout)
    assert done.returncode == 0
    assert (result["outcome"], result["value"], result["logs"]) == ("ok", {"answer": 42}, ["x"])
    assert set(result) == {"outcome", "value", "logs", "logsDropped", "logsDroppedBytes",
                           "error", "durationMs"}  # camelCase, as the HTTP API  # fmt: skip


def test_timeout_option_ends_a_runaway_script(tmp_path: Path, launcher: Launcher) -> None:
    script = tmp_path / "loop.js"
    script.write_text("while (true) {}")
    done = sysjobs("run", "--timeout", "0.5", str(script), cwd=tmp_path, launcher=launcher)
    assert done.returncode == 1
    assert done.stderr.startswith("timeout: ")


def test_missing_script_is_one_clear_line(tmp_path: Path, launcher: Launcher) -> None:
    done = sysjobs("run", str(tmp_path / "nope.js"), cwd=tmp_path, launcher=launcher)
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: cannot read script")
    assert "Traceback" not in done.stderr


def test_embedded_default_runs_jobs_the_script_starts(tmp_path: Path) -> None:
    script = tmp_path / "wait.js"
    script.write_text(
        "var jobId = sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a', param2: 'b'});\n"
        "sys.jobs.waitForJob(jobId, 'FINISHED', 60000);\n"
        "log('status: ' + sys.jobs.findById(jobId).status());\n"
    )
    done = sysjobs_process("run", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "status: FINISHED\n", "")
    assert (tmp_path / ".sysjobs" / "sysjobs.db").exists()


def test_without_in_job_there_is_no_current_job(tmp_path: Path, launcher: Launcher) -> None:
    script = tmp_path / "current.js"
    script.write_text("log('job id: ' + sys.jobs.getCurrentJobId())")
    done = sysjobs("run", str(script), cwd=tmp_path, launcher=launcher)
    assert done.stdout == "job id: null\n"


def test_in_job_runs_the_script_as_a_job_whose_log_gets_its_lines(tmp_path: Path) -> None:
    script = tmp_path / "in_job.js"
    script.write_text(
        "var job = sys.jobs.getCurrentJob();\n"
        "log('job id: ' + job.label());\n"
        "sys.jobs.logInfo('via logInfo');\n"
        "log(sys.jobs.getCurrentJobId().length);\n"
    )
    done = sysjobs("run", "--in-job", str(script), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "job id: in_job.js\nvia logInfo\n24\n")
    assert re.fullmatch("job [0-9a-f]{24}\n", done.stderr)


def test_in_job_error_is_reported_and_the_exit_code_is_non_zero(
    shared_worker: str, tmp_path: Path
) -> None:
    script = tmp_path / "fails.js"
    script.write_text("log('before'); sys.jobs.findById('nope')")
    done = in_job(str(script), url=shared_worker, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == "before\n"
    job_line, error = done.stderr.splitlines()
    assert re.fullmatch("job [0-9a-f]{24}", job_line)
    assert error.startswith("badRequest: ") and "'nope'" in error


def test_in_job_says_the_job_id_first_and_json_has_the_job_and_its_log(
    shared_worker: str, tmp_path: Path
) -> None:
    script = tmp_path / "ids.js"
    script.write_text("log('mine: ' + sys.jobs.getCurrentJobId())")
    done = in_job(str(script), url=shared_worker, cwd=tmp_path)
    job_id = done.stderr.removeprefix("job ").strip()
    assert done.stdout == f"mine: {job_id}\n"
    as_json = in_job("--json", str(script), url=shared_worker, cwd=tmp_path)
    assert (as_json.returncode, as_json.stderr) == (0, "")
    shown = json.loads(as_json.stdout)
    assert shown["job"]["status"] == "FINISHED" and shown["job"]["type"] == "RUN_SCRIPT"
    assert [line["message"] for line in shown["logs"]] == [f"mine: {shown['job']['id']}"]
    assert {"createdAt", "endedAt", "durationMs", "hasErrors"} <= shown["job"].keys()


def test_usage_errors_are_one_bad_request_line(tmp_path: Path, launcher: Launcher) -> None:
    missing = sysjobs("run", cwd=tmp_path, launcher=launcher)
    unknown = sysjobs("run", "--bogus", "x.js", cwd=tmp_path, launcher=launcher)
    for done in (missing, unknown):
        assert done.returncode == 2
        assert done.stderr.startswith("badRequest: ") and done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr
    assert "Missing argument 'script'" in missing.stderr
    assert "No such option: --bogus" in unknown.stderr
