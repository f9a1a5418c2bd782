"""A sidecar with a misspelt or unknown key is refused before anything runs (otherwise the
run would pass while checking nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sysjobs.cli.sample_checks import load_runs
from sysjobs.cli.sample_sources import SampleSourceError
from sysjobs.samples import SAMPLES_DIR


def _write(tmp_path: Path, sidecar: str) -> Path:
    (tmp_path / "s.js").write_text("log('x');\n")
    (tmp_path / "s.expected.yaml").write_text(sidecar)
    return tmp_path


def test_every_shipped_sidecar_is_valid() -> None:
    assert load_runs(SAMPLES_DIR)


@pytest.mark.parametrize(
    "sidecar",
    [
        "function: f\nruns:\n  - name: a\n    expcet: {log: []}\n",
        "function: f\nruns:\n  - name: a\n    expect: {logs: ['x']}\n",
        "function: f\nruns:\n  - name: a\n    expect: {outcome: fine}\n",
        "function: f\nruns:\n  - name: a\n    expect: {jobs_created: [{tpye: X}]}\n",
        "function: f\nruns: []\n",
    ],
)
def test_a_bad_sidecar_is_refused_naming_the_file(tmp_path: Path, sidecar: str) -> None:
    with pytest.raises(SampleSourceError, match=r"s\.expected\.yaml: runs"):
        load_runs(_write(tmp_path, sidecar))
