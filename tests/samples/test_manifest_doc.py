"""``docs/manifest.md`` stays true: its example is a valid app, and every key the manifest
models accept is described there (a key added to the manifest must be documented)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from sysjobs.app import manifest as models
from sysjobs.app.definition import load_app
from sysjobs.app.schedule_defs import ScheduleDef

DOC = Path(__file__).resolve().parents[2] / "docs" / "manifest.md"


def _example() -> str:
    (block,) = re.findall(r"## A complete example\n\n```yaml\n(.*?)```", DOC.read_text(), re.S)
    return str(block)


def test_the_documented_example_loads_as_an_app(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(_example())
    for script in re.findall(r"script: (\S+\.js)", _example()):
        (tmp_path / script).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / script).write_text("log('ok');\n")
    app = load_app(tmp_path)
    assert app.name == "library"
    assert app.manifest.governance.limits() == {
        "max_jobs_started": 50, "max_log_bytes": 1048576, "max_host_calls": 100000,
    }
    assert set(app.manifest.entities) == {"authors", "books"}
    assert set(app.manifest.schedules) == {"nightlyStock", "weeklyDigest"}


def test_every_manifest_key_is_documented() -> None:
    text = DOC.read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    classes = [models.Manifest, models.GovernanceDef, models.EntityDef, models.FieldDef,
               models.ActionDef, models.ParameterDef, models.ListenerDef, models.EndpointDef,
               models.UserDef, ScheduleDef, models.QueueSpec]
    keys: set[str] = set()
    for cls in classes:
        assert issubclass(cls, BaseModel)
        keys |= {f.alias or name for name, f in cls.model_fields.items()}
    assert keys - documented == set()
