"""``sysjobs run FILE``: the error's stack names FILE at the line and column of the throw."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_run_json_shows_the_stack_with_the_files_name_line_and_column(tmp_path: Path) -> None:
    script = tmp_path / "report.js"
    script.write_text("const rows = [];\nlog('start');\n    rows.first.name;\n")
    done = subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", "run", "--json", "--no-worker", str(script)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    stack = json.loads(done.stdout)["error"]["stack"]
    frames = [line for line in stack.splitlines() if line.startswith("    at ")]
    assert frames == ["    at eval (report.js:3:16)"]
