"""The wheel is what a user installs: it must carry the samples, ``py.typed`` and the
license, and ``sysjobs demo`` must pass from an empty folder with nothing of the clone.

No network: the wheel is built with the build backend already installed
(``--no-build-isolation``), installed ``--no-deps --no-index`` into a fresh venv outside
the repo, and that venv sees the dependencies through a ``.pth`` line naming this
interpreter's site-packages (a directory named in a ``.pth`` file is only appended to
``sys.path``; its own ``.pth`` files, such as the editable install's, are not run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from sysjobs.cli.sample_checks import load_runs
from sysjobs.samples import SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL"))}
    env.update({"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "COLUMNS": "200"})
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _check(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "-q", "-w", str(out), str(ROOT)], cwd=out))
    (built,) = out.glob("sysjobs-*.whl")
    return built


def test_the_wheel_carries_the_samples_types_license_and_pytest_plugin(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    shipped = {p.name for p in SAMPLES_DIR.iterdir() if p.suffix in (".js", ".yaml", ".md")}
    assert {f"sysjobs/samples/{name}" for name in shipped} <= names
    assert "sysjobs/py.typed" in names and f"{dist_info}/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata
    assert "[pytest11]\nsysjobs.pytest_plugin = sysjobs.pytest_plugin" in entry_points


def test_the_wheel_carries_postgresqls_sql_files_the_revisions_load(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    sql = ROOT / "sysjobs" / "store" / "postgres" / "sql"
    files = {f"sysjobs/store/postgres/sql/{p.name}" for p in sql.glob("*.sql")}
    assert "sysjobs/store/postgres/sql/schema.sql" in files
    assert files <= names


@pytest.mark.slow
def test_sysjobs_demo_from_the_installed_wheel_passes_in_an_empty_folder(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _check(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path))
    python = venv / "bin" / "python"
    _check(_run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                 "--no-deps", "--no-index", str(wheel)], cwd=tmp_path))
    purelib = _check(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], cwd=tmp_path)).stdout.strip()
    Path(purelib, "sysjobs-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    empty = tmp_path / "empty"
    empty.mkdir()

    where = _check(_run([str(python), "-c", "import sysjobs; print(sysjobs.__file__)"], empty))
    assert where.stdout.strip().startswith(purelib), where.stdout
    demo = _run([str(venv / "bin" / "sysjobs"), "demo"], cwd=empty, timeout=600)
    runs = len(load_runs(SAMPLES_DIR))
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert f"{runs} passed, 0 failed" in demo.stdout
    assert (empty / ".sysjobs" / "demo.db").exists()
