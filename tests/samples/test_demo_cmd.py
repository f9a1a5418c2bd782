"""``sysjobs demo`` (what ``make demo`` runs): progress, each sample's output, a summary
table, and an exit status that says whether every sample passed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.acceptance.inprocess import Ran, sysjobs_in_process

ROOT = Path(__file__).resolve().parents[2]


def _demo(tmp_path: Path, *args: str) -> Ran:
    """``sysjobs demo`` in-process (tests/acceptance/inprocess.py); the packaged-samples
    test below runs it as the process ``make demo`` starts."""
    return sysjobs_in_process(
        "demo", "--samples", str(ROOT / "sysjobs" / "samples"),
        "--db", f"sqlite:///{tmp_path / '.sysjobs' / 'demo.db'}", *args, cwd=tmp_path,
    )  # fmt: skip


def test_demo_runs_samples_prints_their_output_and_a_summary(tmp_path: Path) -> None:
    result = _demo(tmp_path, "--only", "find_by_id")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "job: Execute action logSomething on companies" in result.stdout
    assert "jsdocs samples" in result.stdout and "1 passed, 0 failed" in result.stdout
    assert (tmp_path / ".sysjobs" / "demo.db").exists()


def test_demo_exits_non_zero_when_a_sample_fails(tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "broken.js").write_text("log('not what the sidecar says');\n")
    (samples / "broken.expected.yaml").write_text(
        "function: none\nruns:\n  - name: broken\n    expect:\n      log: ['^something else$']\n"
    )
    result = sysjobs_in_process(
        "demo", "--samples", str(samples), "--db", f"sqlite:///{tmp_path / 'demo.db'}",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "0 passed, 1 failed" in result.stdout
    assert "does not match" in result.stdout


def test_demo_writes_junit_and_json_reports(tmp_path: Path) -> None:
    import json
    import xml.etree.ElementTree as ET

    result = _demo(tmp_path, "--only", "find_by_id", "--json", "--junit", "junit.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["passed"], report["failed"]) == (1, 0)
    assert report["runs"][0]["id"] == "find_by_id[outside a job, with workers]"
    case = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == "find_by_id[outside a job, with workers]"


def test_demo_runs_the_packaged_samples_from_any_folder(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "sysjobs.cli", "demo", "--only", "get_current_job_id"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 0 failed" in result.stdout
    assert (tmp_path / ".sysjobs" / "demo.db").exists()
