"""Text a script stores — a job's label, its log lines, the app log's lines — reaches the
operator's terminal through ``sysjobs jobs ls|show|logs`` and ``sysjobs logs app``. A control
character in it must not act on that terminal: ESC starts sequences that clear the screen,
retitle the window, rewrite what earlier lines said, or (OSC 52) write the operator's
clipboard; C1 controls (U+009B is CSI) do the same on some terminals. Each is printed as a
visible ``\\x1b``-style escape; line breaks and tabs are not escaped. Both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sysjobs.host import Host
from tests.acceptance.inprocess import sysjobs_in_process

#: Clear screen, set the window title, red text, write the clipboard (OSC 52), CSI as C1,
#: DEL and a backspace that hides what precedes it.
HOSTILE = "x\x1b[2J\x1b]0;pwned\x07\x1b[31mred\x1b]52;c;aGk=\x07\u009b2Jc1\x7fdel\x08bs"


@pytest.fixture(scope="module")
def stored(module_db_url: str) -> tuple[str, str]:
    """One database per module and backend holding the hostile text: every test only reads
    it through a command (nothing here writes), so each reads what a database of its own
    would hold."""
    with Host(module_db_url, pool_size=0) as host:
        job = host.start_script_job("1", label="label " + HOSTILE[:60])
        host.engine.log_info(job.id, "line " + HOSTILE + "\nsecond\tline")
        host.run(f"sys.logs.warn({HOSTILE!r})")
    return module_db_url, job.id


@pytest.mark.parametrize("command", ["jobs ls", "jobs show {id}", "jobs logs {id}", "logs app",
                                     "jobs show {id} --json", "jobs logs {id} --json",
                                     "logs app --json"])  # fmt: skip
def test_stored_control_characters_never_reach_the_terminal_raw(
    stored: tuple[str, str], tmp_path: Path, command: str
) -> None:
    url, job_id = stored
    ran = sysjobs_in_process(*command.format(id=job_id).split(), "--db", url, cwd=tmp_path,
                             env={"HOME": str(tmp_path)})  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    raw = [c for c in ran.stdout if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
    assert raw == [], ran.stdout
    assert "\\x1b" in ran.stdout or "\\u001b" in ran.stdout


def test_a_log_lines_line_breaks_and_tabs_stay(stored: tuple[str, str], tmp_path: Path) -> None:
    url, job_id = stored
    ran = sysjobs_in_process("jobs", "logs", job_id, "--db", url, cwd=tmp_path,
                             env={"HOME": str(tmp_path)})  # fmt: skip
    assert "\nsecond" in ran.stdout and "\\x09" not in ran.stdout  # (rich expands the tab)


def test_json_output_reads_back_to_the_stored_text(stored: tuple[str, str], tmp_path: Path) -> None:
    url, job_id = stored
    ran = sysjobs_in_process("jobs", "logs", job_id, "--json", "--db", url, cwd=tmp_path,
                             env={"HOME": str(tmp_path)})  # fmt: skip
    [line] = [json.loads(text) for text in ran.stdout.splitlines() if text.strip()]
    assert line["message"] == "line " + HOSTILE + "\nsecond\tline"
