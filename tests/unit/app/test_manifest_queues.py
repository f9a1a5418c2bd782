"""The manifest's ``queues:`` and ``jobs: maxConcurrency``, the registry's queues and the
per-pool queue limits: what is accepted, and every hostile value refused with its name."""

from __future__ import annotations

import json
import math

import pytest

from sysjobs.app import manifest as manifest_module
from sysjobs.app.definition import parse_manifest
from sysjobs.errors import BadRequest
from sysjobs.jobs import queues as engine_queues
from sysjobs.jobs.queues import QueueDef
from sysjobs.jobs.registry import Registry
from sysjobs.worker.queues import default_limits, free_slots, merged_queues, parse_queues

ACTION = "entities:\n  e:\n    fields: {a: {type: text}}\n    actions:\n      go: {script: x.js"


def _refused(text: str, file_name: str = "app.yaml") -> str:
    with pytest.raises(BadRequest) as raised:
        parse_manifest(text, file_name)
    return raised.value.message


def test_an_app_declares_queues_with_their_limits_next_to_the_built_ins() -> None:
    manifest = parse_manifest(
        "name: x\nqueues:\n  reports: {minConcurrency: 1, maxConcurrency: 4, "
        "pollIntervalMs: 500}\n  bulk-2: {}\njobs: {maxConcurrency: 10}\n"
    )
    assert manifest.queue_defs() == (
        QueueDef("reports", 1, 4, 0.5), QueueDef("bulk-2", 0, None, None),
    )  # fmt: skip
    assert manifest.jobs.max_concurrency == 10


def test_no_queues_and_no_cap_by_default() -> None:
    manifest = parse_manifest("name: x\n")
    assert manifest.queue_defs() == () and manifest.jobs.max_concurrency is None


@pytest.mark.parametrize(
    "name",
    ["mix", "heavy", "system", "light", "default", "1st", "_x", "a b", "x" * 33, "x" * 10_000,
     "r\ud800", "é", ""],
    ids=lambda n: n[:12] or "empty",
)
def test_a_bad_queue_name_is_refused_naming_the_queue_and_the_rule(name: str) -> None:
    text = json.dumps({"name": "x", "queues": {name: {"maxConcurrency": 1}}})
    message = _refused(text, "app.json")
    assert "queues" in message and "'queue'" in message and "built-in" in message
    assert len(message) < 500  # a 10,000-character name is shown cut


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("maxConcurrency", "0"), ("maxConcurrency", "-1"), ("maxConcurrency", ".nan"),
        ("maxConcurrency", ".inf"), ("maxConcurrency", "1e9"), ("maxConcurrency", "100001"),
        ("maxConcurrency", "99999999999999999999999"), ("maxConcurrency", "'2'"),
        ("maxConcurrency", "true"), ("maxConcurrency", "1.5"), ("minConcurrency", "-1"),
        ("pollIntervalMs", "0"), ("pollIntervalMs", "-5"), ("pollIntervalMs", ".nan"),
        ("pollIntervalMs", "3600001"),
    ],
)
def test_a_bad_limit_is_refused_naming_its_key(key: str, value: str) -> None:
    message = _refused(f"name: x\nqueues:\n  reports: {{{key}: {value}}}\n")
    assert f"queues.reports.{key}" in message


def test_a_minimum_above_the_maximum_is_refused() -> None:
    message = _refused("name: x\nqueues:\n  r: {minConcurrency: 3, maxConcurrency: 2}\n")
    assert "minConcurrency 3 is above maxConcurrency 2" in message


@pytest.mark.parametrize("value", ["0", "-3", ".nan", "1e9", "true", "'4'"])
def test_a_bad_app_cap_is_refused_naming_its_key(value: str) -> None:
    assert "jobs.maxConcurrency" in _refused(f"name: x\njobs: {{maxConcurrency: {value}}}\n")


def test_an_action_naming_an_unknown_queue_is_refused_listing_the_apps_queues() -> None:
    message = _refused(f"name: x\nqueues: {{reports: {{}}}}\n{ACTION}, queue: nope}}\n")
    assert "entities.e.actions.go.queue" in message and "'nope'" in message
    assert "Allowed values: mix, light, heavy, system, reports" in message


def test_actions_and_listeners_may_name_the_apps_own_queues() -> None:
    manifest = parse_manifest(
        f"name: x\nqueues: {{reports: {{}}}}\n{ACTION}, queue: reports}}\n"
        "listeners:\n  l: {type: data, entity: e, script: l.js, background: true, "
        "queue: reports}\n"
    )
    assert manifest.entities["e"].actions["go"].queue == "reports"
    assert manifest.listeners["l"].queue == "reports"


def test_a_listener_naming_an_unknown_queue_is_refused() -> None:
    message = _refused(
        f"name: x\n{ACTION}}}\nlisteners:\n  l: {{type: data, entity: e, script: l.js, "
        "queue: '\\ud800'}\n"
    )
    assert "listeners.l.queue" in message and "\\ud800" in message


def test_the_manifests_spelling_of_the_built_ins_is_the_engines() -> None:
    assert manifest_module.BUILTIN_QUEUES == engine_queues.BUILTIN_QUEUES
    assert manifest_module.MAX_CONCURRENCY == engine_queues.MAX_CONCURRENCY


# ---- the registry -----------------------------------------------------------------------


def test_a_registry_knows_the_built_ins_and_the_apps_queues_and_caps() -> None:
    registry = Registry()
    assert registry.queue_names() == ("mix", "light", "heavy", "system")
    registry.use_queues([QueueDef("reports", max_concurrency=2), QueueDef("bulk")], app_cap=7)
    assert registry.queue_names() == ("mix", "light", "heavy", "system", "reports", "bulk")
    assert registry.queue_caps() == {"reports": 2} and registry.app_cap == 7
    assert registry.require_queue("reports") == "reports"


@pytest.mark.parametrize("name", ["nope", "", None, 3, ["mix"], "r\ud800", "x" * 10_000])
def test_an_unknown_queue_is_a_bad_request_naming_queue_and_listing_the_apps(name: object) -> None:
    registry = Registry()
    registry.use_queues([QueueDef("reports")])
    with pytest.raises(BadRequest) as raised:
        registry.require_queue(name)
    message = raised.value.message
    assert "parameter 'queue'" in message and "mix, light, heavy, system, reports" in message
    assert len(message) < 500


def test_an_apps_queue_named_like_a_built_in_is_refused() -> None:
    with pytest.raises(BadRequest, match="parameter 'queue'"):
        Registry().use_queues([QueueDef("mix", max_concurrency=1)])


def test_two_queues_of_one_name_are_refused() -> None:
    with pytest.raises(BadRequest, match="parameter 'queue'"):
        Registry().use_queues([QueueDef("reports"), QueueDef("reports")])


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"name": "mix2", "max_concurrency": 0}, "maxConcurrency"),
        ({"name": "q", "max_concurrency": -1}, "maxConcurrency"),
        ({"name": "q", "max_concurrency": True}, "maxConcurrency"),
        ({"name": "q", "max_concurrency": 2**63}, "maxConcurrency"),
        ({"name": "q", "max_concurrency": math.nan}, "maxConcurrency"),
        ({"name": "q", "min_concurrency": 3, "max_concurrency": 2}, "minConcurrency"),
        ({"name": "q", "poll_interval_s": math.nan}, "pollInterval"),
        ({"name": "q", "poll_interval_s": math.inf}, "pollInterval"),
        ({"name": "q", "poll_interval_s": 0}, "pollInterval"),
        ({"name": "q\ud800"}, "queue"),
    ],
)
def test_a_queue_definition_refuses_hostile_values(kwargs: dict[str, object],
                                                   parameter: str) -> None:  # fmt: skip
    with pytest.raises(BadRequest) as raised:
        QueueDef(**kwargs)  # type: ignore[arg-type]
    assert f"parameter '{parameter}'" in raised.value.message


@pytest.mark.parametrize("cap", [0, -1, True, 2**64, 1.5])
def test_a_bad_app_cap_is_refused_by_the_registry(cap: object) -> None:
    with pytest.raises(BadRequest, match="parameter 'maxConcurrency'"):
        Registry().use_queues([], app_cap=cap)  # type: ignore[arg-type]


# ---- a pool's limits ----------------------------------------------------------------------


def test_a_pool_serves_the_apps_queues_by_default_within_their_maximum() -> None:
    app = [QueueDef("reports", max_concurrency=2), QueueDef("bulk")]
    assert default_limits(8, app) == {
        "mix": 8, "light": 8, "heavy": 4, "system": 1, "reports": 2, "bulk": 8,
    }  # fmt: skip


def test_queues_may_name_the_apps_queues_and_nothing_unknown() -> None:
    app = [QueueDef("reports", max_concurrency=2)]
    assert parse_queues("reports,mix=3", 8, app) == {"reports": 2, "mix": 3}
    for spec in ("nope", "reports=-1", "reports=x", "mix=1e3", "reports=9999999", "r\ud800"):
        with pytest.raises(ValueError):
            parse_queues(spec, 8, app)


def test_a_queues_minimum_keeps_slots_free_for_it_while_it_runs_fewer() -> None:
    limits = {"mix": 4, "reports": 4}
    kept = {"reports": 2}
    assert free_slots(limits, {}, 4, kept) == {"mix": 2, "reports": 4}
    assert free_slots(limits, {"reports": 1}, 4, kept) == {"mix": 2, "reports": 3}
    assert free_slots(limits, {"reports": 2}, 4, kept) == {"mix": 2, "reports": 2}
    assert free_slots(limits, {"mix": 2}, 4, kept) == {"mix": 0, "reports": 2}


def test_two_apps_queues_of_one_name_merge_to_the_wider_limits() -> None:
    merged = merged_queues([
        [QueueDef("reports", 1, 2, 5.0)], [QueueDef("reports", 0, 6, 1.0), QueueDef("bulk")],
    ])  # fmt: skip
    assert merged == [QueueDef("reports", 1, 6, 1.0), QueueDef("bulk")]
