"""Fixtures of the many-apps tests: copies of the demo app under other names, opened on one
shared database (SQLite and PostgreSQL, ``db_url`` of ``tests/conftest.py``).

A module whose tests use ``two`` without workers, subprocesses or schema changes shares two
Hosts per backend (``shared_two``/``two_reseeded``): before each test the database is emptied
and checked (``reused_db_url``, ``tests/emptying.py``) and both apps write again what opening
them on a new database writes, in the order they were opened; opening two Hosts (two engines,
two apps, two V8 isolates) per test was most of a short test's CPU."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sysjobs.app.app import App
from sysjobs.app.definition import demo_app_path, load_app
from sysjobs.host import Host
from sysjobs.jobs import Engine, EngineSettings
from tests.integration.app.harness import KeptInMemory, write_as_opened


def app_folder(root: Path, name: str) -> Path:
    """The demo app (same entities, same seed: the hardest case to keep apart) named
    ``name``, in a folder of its own."""
    folder = root / f"app-{name}"
    if not folder.exists():
        shutil.copytree(demo_app_path(), folder)
        manifest = folder / "app.yaml"
        text = manifest.read_text("utf-8").replace("\nname: demo\n", f"\nname: {name}\n", 1)
        manifest.write_text(text, "utf-8")
    return folder


@dataclass
class Apps:
    """Opens apps by name on one database and closes their engines afterwards."""

    url: str
    root: Path
    engines: list[Engine] = field(default_factory=list)

    def open(self, name: str) -> App:
        engine = Engine.open(self.url, settings=EngineSettings(app=name))
        self.engines.append(engine)
        return App.open(engine, load_app(app_folder(self.root, name)))

    def close(self) -> None:
        for engine in self.engines:
            engine.close()


@pytest.fixture
def apps(db_url: str, tmp_path: Path) -> Iterator[Apps]:
    opened = Apps(db_url, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def two(db_url: str, tmp_path: Path) -> Iterator[tuple[Host, Host]]:
    """Two Hosts of two apps (``alpha``, ``beta``) on one database."""
    a = Host(db_url, app_folder(tmp_path, "alpha"), pool_size=1)
    b = Host(db_url, app_folder(tmp_path, "beta"), pool_size=1)
    yield a, b
    b.close()
    a.close()


@pytest.fixture(scope="module")
def shared_two(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Host, Host]]:
    """``two`` for the module's tests (see ``two_reseeded``)."""
    root = tmp_path_factory.mktemp("two")
    a = Host(module_db_url, app_folder(root, "alpha"), pool_size=1)
    b = Host(module_db_url, app_folder(root, "beta"), pool_size=1)
    yield a, b
    b.close()
    a.close()


@pytest.fixture
def two_reseeded(
    reused_db_url: str, shared_two: tuple[Host, Host]
) -> Iterator[tuple[Host, Host]]:
    """``shared_two`` on the module's database emptied, then written as two Hosts opened on
    a new one write it (alpha, then beta); what a test changes in the apps' memory is put
    back after it."""
    kept = []
    for host in shared_two:
        write_as_opened(host.app)
        kept.append(KeptInMemory(host.app))
    yield shared_two
    for each in kept:
        each.put_back()


def js(host: Host, source: str) -> Any:
    result = host.run(source, timeout_s=60)
    assert result.ok, result.error
    return result.value


def code_of(host: Host, call: str) -> Any:
    """The error code ``call`` throws in ``host``'s app, or its value when it throws none."""
    return js(host, f"try {{ JSON.stringify({call}) }} catch (e) {{ 'code:' + "
                    "sys.exceptions.getCode(e) }")
