"""An app's key is its manifest ``name`` (the default key without an app folder), checked
where it enters: a bad key is a ``badRequest`` naming ``app`` and the allowed form."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from sysjobs.errors import BadRequest
from sysjobs.host import Host, app_key_of, app_key_of_folder
from sysjobs.jobs import Engine, EngineSettings
from sysjobs.jobs.apps import DEFAULT_APP, KEY_FORM, check_app_key
from sysjobs.worker.processes import settings_from_json, settings_to_json
from tests.integration.apps.conftest import app_folder

HOSTILE: list[Any] = [
    "", " ", "a b", "-a", ".a", "a/b", "a\nb", "a\x00", "é", "\ud800", "a\ud800",
    "x" * 65, "x" * (1 << 20), None, 7, 1.5, math.nan, math.inf, -math.inf, True,
    10**40, ["a"], {"app": "a"}, b"a",
]  # fmt: skip


@pytest.mark.parametrize("value", ["a", "demo", "A.b-c_1", "0", "x" * 64])
def test_keys_of_the_allowed_form_are_accepted(value: str) -> None:
    assert check_app_key(value) == value
    assert EngineSettings(app=value).app == value


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_a_bad_key_is_a_bad_request_naming_app_and_the_form(value: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        EngineSettings(app=value)
    message = caught.value.message
    assert "'app'" in message and KEY_FORM in message
    assert len(message) < 400  # a 1 MB key is not echoed whole


def test_an_engine_serves_the_default_app_unless_told() -> None:
    assert EngineSettings().app == DEFAULT_APP == "default"
    assert app_key_of(None) == DEFAULT_APP


def test_the_key_crosses_into_worker_processes() -> None:
    settings = EngineSettings(app="alpha")
    assert settings_from_json(settings_to_json(settings)).app == "alpha"


def test_a_host_without_an_app_folder_uses_the_default_key(db_url: str) -> None:
    with Host(db_url, pool_size=1) as host:
        assert host.app_key == host.engine.app == DEFAULT_APP


def test_a_host_with_an_app_folder_uses_its_manifest_name(db_url: str, tmp_path: Path) -> None:
    folder = app_folder(tmp_path, "invoices")
    assert app_key_of_folder(folder) == "invoices"
    with Host(db_url, folder, pool_size=1) as host:
        assert host.app_key == host.engine.app == "invoices"


def test_a_manifest_name_that_is_no_key_is_a_bad_request(tmp_path: Path) -> None:
    folder = app_folder(tmp_path, "x")
    manifest = folder / "app.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("\nname: x\n", "\nname: my app\n"))
    with pytest.raises(BadRequest) as caught:
        Host("sqlite://", folder, pool_size=1)
    assert "'my app'" in caught.value.message and "'app'" in caught.value.message


def test_a_host_refuses_an_engine_of_another_app(db_url: str, tmp_path: Path) -> None:
    with (
        Engine.open(db_url, settings=EngineSettings(app="other")) as engine,
        pytest.raises(BadRequest) as caught,
    ):
        Host(engine=engine, app_dir=app_folder(tmp_path, "mine"), pool_size=1)
    assert "'app'" in caught.value.message and "'mine'" in caught.value.message


def test_a_host_refuses_settings_of_another_app(tmp_path: Path) -> None:
    with pytest.raises(BadRequest) as caught:
        Host("sqlite://", app_folder(tmp_path, "mine"), settings=EngineSettings(app="other"))
    assert "'app'" in caught.value.message
