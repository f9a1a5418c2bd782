"""A script's child forked from a parent that holds nothing (``sysjobs run`` at its start)
is isolated as a fresh interpreter is: its own data limit, a death mapped to an outcome,
no descriptor of the parent's, stdin from /dev/null — and a parent that holds a thread, V8
or a file it opened starts a fresh interpreter instead. Each case runs in a fresh
interpreter (``fork_probe.py``): this test process holds all three."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def probe(case: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "tests.acceptance.runtime.fork_probe", case],
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_a_forked_child_runs_the_script_with_only_its_own_descriptors() -> None:
    seen = probe("runs")
    assert seen == {
        "before": True, "kind": "ForkedChild", "ok": True, "value": "undefined undefined",
        "logs": ["hi"], "marker_open": False, "stdin": "/dev/null", "ended": True,
    }  # fmt: skip


def test_a_forked_child_keeps_its_data_limit_and_a_bomb_is_a_memory_limit() -> None:
    seen = probe("memory")
    assert seen == {"before": True, "kind": "ForkedChild", "bomb": "memoryLimit",
                    "after": ["ok", 42]}  # fmt: skip


def test_a_forked_child_that_dies_is_a_crash_and_is_replaced() -> None:
    seen = probe("crash")
    assert (seen["kind"], seen["died"], seen["after"]) == ("ForkedChild", "crashed", ["ok", 42])
    assert seen["message"] == "The script's process crashed (signal 6); the host replaced it."


@pytest.mark.parametrize("holding", ["thread", "v8", "file"])
def test_a_parent_that_holds_a_thread_v8_or_a_file_starts_a_fresh_interpreter(
    holding: str,
) -> None:
    assert probe(holding) == {"before": True, "may_fork": False, "kind": "Popen", "value": 42}


def test_sysjobs_run_with_its_forked_child_reads_and_starts_jobs_on_either_database(
    db_url: str, tmp_path: Path
) -> None:
    """The command line forks its child (a fresh process holds nothing): the script's first
    ``sys.jobs`` call opens the database there, and the job it starts runs in the worker
    process the command starts."""
    script = tmp_path / "job.js"
    script.write_text(
        "log(sys.jobs.find({}).count());\n"
        "var id = sys.data.executeAction('companies', {}, 'logSomething',"
        " {param1: 'a', param2: 'b'});\n"
        "sys.jobs.waitForJob(id, 'FINISHED', 60000);\n"
        "log(sys.jobs.findById(id).status());\n"
    )
    done = subprocess.run([sys.executable, "-m", "sysjobs.cli", "run", "--db", db_url,
                           str(script)], capture_output=True, text=True, timeout=180,
                          cwd=tmp_path)  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "0\nFINISHED\n", ""), (
        done.stderr[-2000:]
    )
