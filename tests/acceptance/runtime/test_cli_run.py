"""``sysjobs run SCRIPT.js``: log lines on stdout, ``code: message`` on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def sysjobs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_run_prints_log_lines_and_exits_zero(tmp_path: Path) -> None:
    script = tmp_path / "hello.js"
    script.write_text("log('hello'); log('world', 1)")
    done = sysjobs("run", str(script))
    assert (done.returncode, done.stdout, done.stderr) == (0, "hello\nworld 1\n", "")


def test_uncaught_error_prints_code_and_message_and_exits_non_zero(tmp_path: Path) -> None:
    script = tmp_path / "bad.js"
    script.write_text("log('before'); sys.exceptions.throwException('badRequest', 'Invalid id')")
    done = sysjobs("run", str(script))
    assert done.returncode == 1
    assert done.stdout == "before\n"
    assert done.stderr == "badRequest: Invalid id\n"


def test_json_prints_the_run_result(tmp_path: Path) -> None:
    script = tmp_path / "value.js"
    script.write_text("log('x'); ({answer: 42})")
    done = sysjobs("run", "--json", str(script))
    result = json.loads(done.stdout)
    assert done.returncode == 0
    assert (result["outcome"], result["value"], result["logs"]) == ("ok", {"answer": 42}, ["x"])


def test_timeout_option_ends_a_runaway_script(tmp_path: Path) -> None:
    script = tmp_path / "loop.js"
    script.write_text("while (true) {}")
    done = sysjobs("run", "--timeout", "0.5", str(script))
    assert done.returncode == 1
    assert done.stderr.startswith("timeout: ")


def test_missing_script_is_one_clear_line(tmp_path: Path) -> None:
    done = sysjobs("run", str(tmp_path / "nope.js"))
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: cannot read script")
    assert "Traceback" not in done.stderr
