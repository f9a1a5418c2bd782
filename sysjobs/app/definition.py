"""Loading an app folder: the manifest plus the JavaScript files it names.

Every problem is a :class:`~sysjobs.errors.BadRequest` whose message starts with the file
and names the bad key, so a typo in ``app.yaml`` reads like
``app.yaml: entities.companies.fields.type.type: Input should be 'text', … (got 'strng')``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from sysjobs.app.manifest import ActionDef, ActionKind, EntityDef, ListenerDef, Manifest
from sysjobs.errors import BadRequest, NotFound

if TYPE_CHECKING:  # the engine (and SQLAlchemy) stay out of a script child's imports
    from sysjobs.jobs.settings import EngineSettings

MANIFEST_NAMES = ("app.yaml", "app.yml", "app.json")


@dataclass(frozen=True)
class AppDefinition:
    """A validated app: its manifest and the source of every script it names."""

    root: Path
    manifest: Manifest
    #: Script path (as written in the manifest) → JavaScript source.
    scripts: dict[str, str]

    @property
    def name(self) -> str:
        return self.manifest.name

    def entity(self, name: str) -> EntityDef:
        """The entity called ``name`` or ``BadRequest`` listing the known ones."""
        entity = self.manifest.entities.get(name)
        if entity is None:
            known = ", ".join(sorted(self.manifest.entities)) or "none"
            raise BadRequest(
                f"Invalid value '{name}' for parameter 'entityName'. Allowed values: {known}"
            )
        return entity

    def action(self, entity_name: str | None, action_name: str) -> ActionDef:
        """An entity's action, or a global action when ``entity_name`` is None."""
        actions = (
            self.manifest.actions if entity_name is None else self.entity(entity_name).actions
        )
        action = actions.get(action_name)
        if action is None:
            known = ", ".join(sorted(actions)) or "none"
            raise BadRequest(
                f"Invalid value '{action_name}' for parameter 'actionName'. "
                f"Allowed values: {known}"
            )
        return action

    def listener(self, name: str) -> ListenerDef:
        listener = self.manifest.listeners.get(name)
        if listener is None:
            raise NotFound(f"Listener '{name}' not found.")
        return listener

    def script(self, path: str) -> str:
        return self.scripts[path]

    def data_listeners(self, entity: str, event: str) -> list[tuple[str, ListenerDef]]:
        """The data listeners of ``entity`` that react to ``event`` (``created`` …)."""
        return [
            (name, li) for name, li in self.manifest.listeners.items()
            if li.type == "data" and li.entity == entity and (not li.events or event in li.events)
        ]  # fmt: skip

    def engine_settings(self, base: EngineSettings) -> EngineSettings:
        """``base`` with the retention and caps the app's manifest sets (``jobs:``): the
        settings of the app's engine, on any database and in any worker serving it."""
        jobs = self.manifest.jobs
        if not jobs.retention() and not jobs.caps():
            return base
        return replace(
            base,
            retain_jobs_days=_or(jobs.retain_jobs_days, base.retain_jobs_days),
            retain_logs_days=_or(jobs.retain_logs_days, base.retain_logs_days),
            caps=replace(base.caps, **jobs.caps()),
        )

    def governance_limits(self) -> dict[str, int]:
        """The per-run limits the app's manifest sets (``{"max_jobs_started": 10}`` …);
        the Host applies each where it is stricter than its own."""
        return self.manifest.governance.limits()


def _or(value: float | None, default: float | None) -> float | None:
    return default if value is None else value


def demo_app_path() -> Path:
    """The folder of the demo app shipped inside the package."""
    return Path(str(resources.files("sysjobs.app").joinpath("demo")))


def load_demo_app() -> AppDefinition:
    return load_app(demo_app_path())


def load_app(folder: str | Path) -> AppDefinition:
    """Read and validate the app in ``folder``."""
    root = Path(folder)
    manifest_file = next((root / n for n in MANIFEST_NAMES if (root / n).is_file()), None)
    if manifest_file is None:
        names = ", ".join(MANIFEST_NAMES)
        raise BadRequest(f"No app manifest in '{root}': expected one of {names}")
    manifest = parse_manifest(manifest_file.read_text("utf-8"), manifest_file.name)
    return AppDefinition(root, manifest, _read_scripts(root, manifest, manifest_file.name))


#: libyaml's safe loader when PyYAML has it (~10x faster on a manifest), else the Python one.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_manifest(text: str, source: str = "app.yaml") -> Manifest:
    """Parse YAML or JSON text into a :class:`Manifest`, with errors naming the bad key."""
    try:
        raw: Any = json.loads(text) if source.endswith(".json") else yaml.load(text, _YAML_LOADER)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        kind = "JSON" if source.endswith(".json") else "YAML"
        raise BadRequest(f"{source}: not valid {kind}: {exc}") from exc
    if not isinstance(raw, dict):
        raise BadRequest(f"{source}: the manifest must be a mapping, got {type(raw).__name__}")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise BadRequest(f"{source}: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        got = "" if err["type"] in ("missing", "value_error") else f" (got {err['input']!r})"
        parts.append(f"{loc}: {msg}{got}" if loc else f"{msg}")
    return "; ".join(parts)


def _script_paths(manifest: Manifest) -> list[tuple[str, str]]:
    """Every (manifest key, script path) pair the manifest names."""
    out = [(f"actions.{n}.script", a.script) for n, a in manifest.actions.items()]
    for ename, entity in manifest.entities.items():
        prefix = f"entities.{ename}.actions"
        out += [(f"{prefix}.{n}.script", a.script) for n, a in entity.actions.items()]
    out += [(f"listeners.{n}.script", li.script) for n, li in manifest.listeners.items()]
    out += [(f"endpoints.{n}.script", e.script) for n, e in manifest.endpoints.items() if e.script]
    out += [(f"schedules.{n}.script", s.script) for n, s in manifest.schedules.items() if s.script]
    return out


def _read_scripts(root: Path, manifest: Manifest, source: str) -> dict[str, str]:
    scripts: dict[str, str] = {}
    base = root.resolve()
    for key, rel in _script_paths(manifest):
        path = (root / rel).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            raise BadRequest(f"{source}: {key}: script file '{rel}' not found in the app folder")
        scripts[rel] = path.read_text("utf-8")
    return scripts


__all__ = ["ActionKind", "AppDefinition", "demo_app_path", "load_app", "load_demo_app"]
