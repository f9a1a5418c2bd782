"""Fixtures of the many-apps tests: copies of the demo app under other names, opened on one
shared database (SQLite and PostgreSQL, ``db_url`` of ``tests/conftest.py``)."""

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


def js(host: Host, source: str) -> Any:
    result = host.run(source, timeout_s=60)
    assert result.ok, result.error
    return result.value


def code_of(host: Host, call: str) -> Any:
    """The error code ``call`` throws in ``host``'s app, or its value when it throws none."""
    return js(host, f"try {{ JSON.stringify({call}) }} catch (e) {{ 'code:' + "
                    "sys.exceptions.getCode(e) }")
