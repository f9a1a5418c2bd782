"""``sysjobs worker --app``: one app, the option repeated, or a folder of apps — each app
served by key from its own folder; a folder with no app in it, or two folders of one app
name, is a ``badRequest`` naming ``--app``. The processes are stood in for: the test reads
the config each would get."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import sysjobs.worker
from sysjobs.worker.processes import WorkerConfig
from tests.acceptance.inprocess import Ran, sysjobs_in_process
from tests.integration.apps.conftest import app_folder


@pytest.fixture
def configs(monkeypatch: pytest.MonkeyPatch) -> list[WorkerConfig]:
    seen: list[WorkerConfig] = []

    class Supervisor:
        """Stands for WorkerProcesses: records the config each child would get."""

        def __init__(self, config: WorkerConfig, processes: int, launcher: object = None) -> None:
            seen.append(config)
            url = SimpleNamespace(render_as_string=lambda hide_password: "sqlite:///x.db")
            self.engine = SimpleNamespace(database=SimpleNamespace(url=url))

        def serve_forever(self) -> None:
            pass

    monkeypatch.setattr(sysjobs.worker, "WorkerProcesses", Supervisor)
    return seen


def worker(tmp_path: Path, *args: str) -> Ran:
    db = f"sqlite:///{tmp_path / 'w.db'}"
    return sysjobs_in_process("worker", "-c", "1", *args, "--db", db, cwd=tmp_path,
                              env={"HOME": str(tmp_path), "SYSJOBS_APP": None})  # fmt: skip


def test_one_app_folder_is_served_by_its_key(tmp_path: Path, configs: list[WorkerConfig]) -> None:
    folder = app_folder(tmp_path, "alpha")
    done = worker(tmp_path, "--app", str(folder))
    assert done.returncode == 0, done.stderr
    assert "serving alpha" in done.stdout
    (config,) = configs
    assert config.apps == {"alpha": str(folder)}
    assert config.engine_settings["app"] == "alpha"


def test_app_repeated_serves_each(tmp_path: Path, configs: list[WorkerConfig]) -> None:
    a, b = app_folder(tmp_path, "alpha"), app_folder(tmp_path, "beta")
    done = worker(tmp_path, "--app", str(a), "--app", str(b))
    assert done.returncode == 0, done.stderr
    assert configs[0].apps == {"alpha": str(a), "beta": str(b)}


def test_a_folder_of_apps_serves_every_app_in_it(tmp_path: Path, configs: list[WorkerConfig]) -> None:
    root = tmp_path / "apps"
    root.mkdir()
    for name in ("gamma", "alpha", "beta"):
        app_folder(root, name)
    (root / "notes").mkdir()  # not an app: left alone
    done = worker(tmp_path, "--app", str(root))
    assert done.returncode == 0, done.stderr
    assert list(configs[0].apps) == ["alpha", "beta", "gamma"]


def test_without_app_the_worker_serves_one_app_as_before(
    tmp_path: Path, configs: list[WorkerConfig]
) -> None:
    done = worker(tmp_path)
    assert done.returncode == 0, done.stderr
    assert configs[0].apps == {}
    assert configs[0].engine_settings["app"] == "default"


@pytest.mark.parametrize("kind", ["empty", "missing"])
def test_a_folder_with_no_app_is_a_bad_request(
    tmp_path: Path, configs: list[WorkerConfig], kind: str
) -> None:
    folder = tmp_path / "nothing"
    if kind == "empty":
        folder.mkdir()
    done = worker(tmp_path, "--app", str(folder))
    assert done.returncode == 2
    assert done.stderr.startswith("badRequest: Invalid value") and "'--app'" in done.stderr
    assert configs == []


def test_two_folders_of_one_app_name_are_a_bad_request(
    tmp_path: Path, configs: list[WorkerConfig]
) -> None:
    first = app_folder(tmp_path / "one", "alpha")
    second = app_folder(tmp_path / "two", "alpha")
    done = worker(tmp_path, "--app", str(first), "--app", str(second))
    assert done.returncode == 2
    assert "badRequest" in done.stderr and "'alpha' is already served" in done.stderr
    assert configs == []
