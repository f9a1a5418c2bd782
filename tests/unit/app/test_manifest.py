"""Manifest errors are clear: they name the file and the bad key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sysjobs.app.definition import load_app, load_demo_app, parse_manifest
from sysjobs.app.manifest import ActionKind
from sysjobs.errors import BadRequest

GOOD = """
name: t
entities:
  items:
    labelField: name
    fields:
      name: {type: text}
"""


def bad(text: str, *expected: str, source: str = "app.yaml") -> None:
    with pytest.raises(BadRequest) as info:
        parse_manifest(text, source)
    for part in expected:
        assert part in info.value.message, info.value.message


def test_demo_app_loads_with_its_entities_actions_and_scripts() -> None:
    app = load_demo_app()
    assert set(app.manifest.entities) == {"companies", "contacts", "files"}
    action = app.action("companies", "logSomething")
    assert action.kind is ActionKind.ONE_RECORD and set(action.parameters) == {"param1", "param2"}
    assert app.action(None, "quickAdd").kind is ActionKind.GLOBAL
    assert "action.field('param1')" in app.script(action.script)
    assert any(li.background for li in app.manifest.listeners.values())
    assert "hello" in app.manifest.endpoints and len(app.manifest.users) >= 3


def test_wrong_field_type_names_the_key_and_the_value() -> None:
    bad(GOOD.replace("type: text", "type: strng"),
        "app.yaml: entities.items.fields.name.type:", "'strng'", "'text'")


def test_unknown_key_is_named() -> None:
    bad(GOOD.replace("labelField", "labelFeld"), "entities.items.labelFeld: unknown key")


def test_missing_key_is_named() -> None:
    bad("entities: {}", "name: required key is missing")


def test_label_field_must_be_a_field() -> None:
    bad(GOOD.replace("labelField: name", "labelField: title"),
        "entities.items:", "labelField 'title' is not a field")


def test_choice_without_choices_and_relationship_without_entity() -> None:
    bad(GOOD.replace("{type: text}", "{type: choice}"), "entities.items.fields.name:",
        "needs 'choices'")
    bad(GOOD.replace("{type: text}", "{type: relationship, entity: ghosts}"),
        "entities.items.fields.name.entity: unknown entity 'ghosts'")


def test_listener_checks() -> None:
    base = GOOD + "listeners:\n  l1: {type: job, jobType: RUN_STUFF, script: l.js}\n"
    bad(base, "listeners.l1:", "invalid jobType 'RUN_STUFF'", "EXECUTE_ACTION")
    bad(GOOD + "listeners:\n  l1: {type: data, entity: items, events: [born], script: l.js}\n",
        "invalid event 'born'", "created, changed, deleted")


def test_top_level_action_must_be_global() -> None:
    bad(GOOD + "actions:\n  a: {kind: oneRecord, script: a.js}\n",
        "actions.a.kind: a top-level action must be 'global'")


def test_syntax_errors_name_the_format() -> None:
    bad("name: [", "app.yaml: not valid YAML")
    bad("{", "app.json: not valid JSON", source="app.json")
    bad("- a\n- b", "the manifest must be a mapping")


def test_missing_script_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(GOOD + "actions:\n  go: {kind: global, script: go.js}\n")
    with pytest.raises(BadRequest, match=re.escape("actions.go.script: script file 'go.js' not found")):
        load_app(tmp_path)


def test_json_manifest_and_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="No app manifest"):
        load_app(tmp_path)
    (tmp_path / "app.json").write_text('{"name": "j", "entities": {}}')
    assert load_app(tmp_path).name == "j"
