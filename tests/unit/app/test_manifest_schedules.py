"""The manifest's ``schedules:`` section: a bad schedule is refused where the app loads,
with a message naming the schedule and the key — never a traceback, never a raw bad name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sysjobs.app.definition import load_app, parse_manifest
from sysjobs.app.schedules import app_schedules
from sysjobs.errors import BadRequest

LISTENERS = {"tidy": {"type": "job", "jobType": "EXPORT_USERS", "script": "tidy.js"}}


def manifest(**schedules: Any) -> str:
    return json.dumps({"name": "t", "listeners": LISTENERS, "schedules": schedules})


def refused(text: str) -> str:
    with pytest.raises(BadRequest) as info:
        parse_manifest(text, "app.json")
    message = info.value.message
    message.encode("utf-8")  # no lone surrogate reaches the CLI's encoder
    return message


def test_a_schedule_is_read_with_its_defaults() -> None:
    parsed = parse_manifest(manifest(nightly={"cron": "0 2 * * *", "listener": "tidy"}), "app.json")
    nightly = parsed.schedules["nightly"]
    assert (nightly.cron, nightly.timezone, nightly.enabled, nightly.target) == (
        "0 2 * * *", "UTC", True, "listener:tidy")


@pytest.mark.parametrize(
    "cron,expected",
    [
        ("* * * * * * *", "schedules.n.cron: invalid cron expression '* * * * * * *' (7 fields)"),
        ("61 * * * *", "schedules.n.cron: invalid cron expression '61 * * * *'"),
        ("1-99999999999999999999 * * * *", "schedules.n.cron: invalid cron expression"),
        ("0 0 31 2 *", "schedules.n: cron expression '0 0 31 2 *' matches no date"),
        ("x" * 1_000_000, "longer than 200 characters"),
    ],
)
def test_a_bad_cron_expression_names_the_schedule_and_the_key(cron: str, expected: str) -> None:
    message = refused(manifest(n={"cron": cron, "listener": "tidy"}))
    assert expected in message and "Allowed values" in message
    assert len(message) < 1000


@pytest.mark.parametrize("cron", [float("nan"), float("inf"), 10**30, None, ["0 2 * * *"]])
def test_a_cron_that_is_not_a_string_is_refused(cron: object) -> None:
    text = json.dumps({"name": "t", "schedules": {"n": {"cron": cron, "source": "1"}}})
    assert "schedules.n.cron:" in refused(text)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../etc/passwd", "\ud800", "", "utc "])
def test_an_unknown_time_zone_names_the_schedule_and_the_key(zone: str) -> None:
    message = refused(manifest(n={"cron": "0 2 * * *", "timezone": zone, "listener": "tidy"}))
    assert "schedules.n.timezone:" in message and "IANA time zone" in message


def test_an_unknown_listener_is_named_with_the_known_ones() -> None:
    message = refused(manifest(n={"cron": "0 2 * * *", "listener": "nope"}))
    assert "schedules.n.listener: unknown listener 'nope'. Allowed values: tidy" in message


@pytest.mark.parametrize(
    "target", [{}, {"listener": "tidy", "source": "1"}, {"script": "a.js", "source": "1"}]
)
def test_a_schedule_starts_exactly_one_thing(target: dict[str, str]) -> None:
    message = refused(manifest(n={"cron": "0 2 * * *", **target}))
    assert "schedules.n: a schedule starts exactly one of listener, script or source" in message


@pytest.mark.parametrize("name", ["\ud800", "1abc", "a b", "a.b", "x" * 101, "\u00e9t\u00e9", "nightly\n"])
def test_a_bad_schedule_name_is_refused_and_shown_escaped(name: str) -> None:
    message = refused(manifest(**{name: {"cron": "0 2 * * *", "listener": "tidy"}}))
    assert "schedules: invalid schedule name" in message
    assert "\ud800" not in message


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_enabled_is_a_boolean(value: object) -> None:
    assert "schedules.n.enabled:" in refused(
        manifest(n={"cron": "0 2 * * *", "listener": "tidy", "enabled": value}))


def test_an_unknown_key_of_a_schedule_is_named() -> None:
    assert "schedules.n.every: unknown key" in refused(
        manifest(n={"cron": "0 2 * * *", "listener": "tidy", "every": "day"}))


def test_a_missing_script_file_is_named_at_load(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text(json.dumps(
        {"name": "t", "schedules": {"n": {"cron": "@daily", "script": "gone.js"}}}))
    with pytest.raises(BadRequest, match=r"schedules\.n\.script: script file 'gone\.js' not found"):
        load_app(tmp_path)


def test_the_apps_schedules_carry_their_file_source(tmp_path: Path) -> None:
    (tmp_path / "report.js").write_text("log('r');")
    (tmp_path / "app.json").write_text(json.dumps(
        {"name": "t", "schedules": {"n": {"cron": "@daily", "script": "report.js"}}}))
    [schedule] = app_schedules(load_app(tmp_path))
    assert (schedule.name, schedule.job_type, schedule.target) == ("n", "RUN_SCRIPT",
                                                                   "script:report.js")


@pytest.mark.parametrize("source", ["log('a\u0000b')", "\ud800"])
def test_an_inline_source_no_job_data_can_hold_is_refused_at_load(source: str) -> None:
    """Each tick's job carries the source in its data: one with NUL (PostgreSQL cannot
    store it) or a lone surrogate (no encoder writes it) could never start."""
    message = refused(manifest(n={"cron": "* * * * *", "source": source}))
    assert "schedules.n.source:" in message, message
