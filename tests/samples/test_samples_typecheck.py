"""Every sample of the spec type-checks against ``sys.d.ts`` with ``tsc --checkJs``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TSC = ROOT / "node_modules" / ".bin" / "tsc"
DTS = ROOT / "sysjobs" / "bindings" / "sys.d.ts"
SAMPLES = sorted((ROOT / "sysjobs" / "samples").glob("*.js"))
_FLAGS = ["--noEmit", "--allowJs", "--checkJs", "--lib", "es2022", "--target", "es2022"]


def _tsc(*files: Path) -> subprocess.CompletedProcess[str]:
    if not TSC.exists():
        pytest.fail("TypeScript is not installed: run `make node_modules/.bin/tsc`")
    return subprocess.run(
        [str(TSC), *_FLAGS, str(DTS), *map(str, files)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )


def test_tsc_accepts_every_sample() -> None:
    assert SAMPLES
    result = _tsc(*SAMPLES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tsc_rejects_a_script_that_misuses_sys_jobs(tmp_path: Path) -> None:
    """The check has teeth: a wrong name and a wrong argument type are both reported."""
    bad = tmp_path / "bad.js"
    bad.write_text("var j = sys.jobs.findByID('x');\nsys.jobs.waitForJob('x', 'FINISHED', '1');\n")
    result = _tsc(bad)
    assert result.returncode != 0
    assert "findByID" in result.stdout
    assert "TS2345" in result.stdout
