"""The manifest's ``governance:`` keys: optional integers >= 0, anything else named."""

from __future__ import annotations

import pytest

from sysjobs.app.definition import parse_manifest
from sysjobs.errors import BadRequest


def test_governance_is_optional_and_sets_nothing_by_default() -> None:
    assert parse_manifest("name: x\n").governance.limits() == {}


def test_the_keys_an_app_sets_are_given_by_their_python_names() -> None:
    manifest = parse_manifest("name: x\ngovernance: {maxJobsStarted: 5, maxHostCalls: 0}\n")
    assert manifest.governance.limits() == {"max_jobs_started": 5, "max_host_calls": 0}


def test_a_json_manifest_sets_them_too() -> None:
    manifest = parse_manifest('{"name": "x", "governance": {"maxLogBytes": 1024}}', "app.json")
    assert manifest.governance.limits() == {"max_log_bytes": 1024}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-1", "greater than or equal to 0"),
        ("true", "valid integer"),
        ("'5'", "valid integer"),
        ("1.5", "valid integer"),
        (".nan", "valid integer"),
        (".inf", "valid integer"),
        ("[1]", "valid integer"),
    ],
)
def test_a_bad_value_is_a_bad_request_naming_the_key(value: str, says: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_manifest(f"name: x\ngovernance: {{maxLogBytes: {value}}}\n")
    assert "governance.maxLogBytes" in raised.value.message and says in raised.value.message


def test_an_unknown_governance_key_is_named() -> None:
    with pytest.raises(BadRequest) as raised:
        parse_manifest("name: x\ngovernance: {maxJobs: 5}\n")
    assert "governance.maxJobs: unknown key" in raised.value.message
