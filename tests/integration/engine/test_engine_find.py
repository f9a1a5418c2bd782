"""``find``: every filter alone and combined, newest first, ``_size``, counts, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from sysjobs.errors import BadRequest
from sysjobs.jobs import Engine, Job, Outcome, new_owner
from sysjobs.jobs.models import to_ms
from tests.integration.engine.helpers import ManualClock
from tests.integration.engine.jobtypes import register


def _ms(job: Job, field: str) -> int:
    value = to_ms(getattr(job, field))
    assert value is not None
    return value



@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): taking a new
    one from the pool and checking it on the way back cost more than most tests here."""
    return reused_db_url


@pytest.fixture
def engine(clocked_engine: Engine) -> Engine:
    """The module's engine on a clock the test moves: each job below is stamped 3 ms after
    the one before it, so the date filters' bounds fall between two jobs exactly."""
    return clocked_engine


@pytest.fixture
def world(engine: Engine, clock: ManualClock) -> dict[str, Any]:
    """Five jobs: two finished (one with errors), one running, one pending, one canceled."""
    register(engine)
    owner = new_owner()
    made: dict[str, Job] = {}
    for name, job_type, data in [
        ("ok", "NOOP", {}), ("bad", "ECHO", {"text": "x"}), ("run", "NOOP", {}),
        ("wait", "ECHO", {"text": "y"}), ("gone", "NOOP", {}),
    ]:  # fmt: skip
        made[name] = engine.enqueue(job_type, data)
        clock.advance(3)
    for name in ("ok", "bad", "run"):
        (claimed,) = engine.leases.claim(owner, limit=1)
        assert claimed.job.id == made[name].id
        if name == "bad":
            engine.log_error(claimed.job.id, "broken")
        if name != "run":
            engine.leases.finish(claimed.lease, Outcome.COMPLETED)
        clock.advance(3)
    engine.cancel(made["gone"].id)
    return {"engine": engine, **{k: engine.require(v.id) for k, v in made.items()}}


def _ids(engine: Engine, query: dict[str, Any]) -> list[str]:
    return [job.id for job in engine.find(query)]


def _names(world: dict[str, Any], query: dict[str, Any]) -> list[str]:
    by_id = {job.id: name for name, job in world.items() if isinstance(job, Job)}
    return [by_id[i] for i in _ids(world["engine"], query)]


def test_find_without_filters_returns_every_job_newest_first(world: dict[str, Any]) -> None:
    assert _names(world, {}) == ["gone", "wait", "run", "bad", "ok"]


def test_find_filters_by_one_or_many_statuses(world: dict[str, Any]) -> None:
    assert _names(world, {"status": "FINISHED"}) == ["bad", "ok"]
    assert _names(world, {"status": "PENDING,RUNNING"}) == ["wait", "run"]
    assert _names(world, {"status": ["CANCELED", "RUNNING"]}) == ["gone", "run"]


def test_find_filters_by_one_or_many_types(world: dict[str, Any]) -> None:
    assert _names(world, {"type": "ECHO"}) == ["wait", "bad"]
    assert _names(world, {"type": "ECHO, NOOP"}) == ["gone", "wait", "run", "bad", "ok"]
    assert _names(world, {"type": "EXECUTE_ACTION"}) == []


def test_find_filters_by_has_errors_as_boolean_or_string(world: dict[str, Any]) -> None:
    assert _names(world, {"hasErrors": True}) == ["bad"]
    assert _names(world, {"hasErrors": "true"}) == ["bad"]
    assert _names(world, {"hasErrors": "false"}) == ["gone", "wait", "run", "ok"]


def test_find_filters_by_creation_alone_and_as_an_inclusive_range(world: dict[str, Any]) -> None:
    run = _ms(world["run"], "created_at")
    assert _names(world, {"createFrom": run}) == ["gone", "wait", "run"]
    assert _names(world, {"createTo": run}) == ["run", "bad", "ok"]
    assert _names(world, {"createFrom": run, "createTo": run}) == ["run"]


def test_find_filters_by_start_and_end_dates(world: dict[str, Any]) -> None:
    bad_start, bad_end = _ms(world["bad"], "started_at"), _ms(world["bad"], "ended_at")
    assert _names(world, {"startFrom": bad_start}) == ["run", "bad"]
    assert _names(world, {"startTo": bad_start}) == ["bad", "ok"]
    assert _names(world, {"endFrom": bad_end}) == ["gone", "bad"]
    assert _names(world, {"endFrom": bad_end, "endTo": bad_end}) == ["bad"]
    assert _names(world, {"startFrom": str(bad_start), "startTo": str(bad_start)}) == ["bad"]


def test_find_combines_filters(world: dict[str, Any]) -> None:
    query = {"status": "FINISHED", "type": "ECHO", "hasErrors": "true", "_size": 10}
    assert _names(world, query) == ["bad"]
    assert _names(world, {"status": "FINISHED,RUNNING", "hasErrors": False}) == ["run", "ok"]


def test_find_size_bounds_the_page_and_count_ignores_it(world: dict[str, Any]) -> None:
    cursor = world["engine"].find({"_size": 2})
    assert [j.id for j in cursor] == [world["gone"].id, world["wait"].id]
    assert cursor.count() == 5


def test_find_streams_many_rows_across_pages(engine: Engine) -> None:
    register(engine)
    jobs = engine.enqueue_many("NOOP", [{} for _ in range(450)])
    found = [j.id for j in engine.find({"type": "NOOP"})]
    assert found == sorted((j.id for j in jobs), reverse=True)
    assert [j.id for j in engine.find({"_size": 201})] == found[:201]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"state": "x"}, "Unknown parameter 'state'. Allowed parameters: type, status, "),
        ({"status": "DONE"}, "Invalid value 'DONE' for parameter 'status'. "
                             "Allowed values: PENDING, RUNNING, FINISHED, STOPPING, "),
        ({"status": 3}, "Invalid value 3 for parameter 'status'"),
        ({"type": "BOGUS"}, "Invalid value 'BOGUS' for parameter 'type'. Allowed values: "),
        ({"hasErrors": "yes"}, "Invalid value 'yes' for parameter 'hasErrors'. "
                               "Allowed values: true, false"),
        ({"createFrom": "soon"}, "Invalid value 'soon' for parameter 'createFrom'. "
                                 "Allowed values: a timestamp in milliseconds"),
        ({"startFrom": -5}, "Invalid value -5 for parameter 'startFrom'"),
        ({"endFrom": 10, "endTo": 5}, "Invalid range: 'endFrom' (10) is after 'endTo' (5)"),
        ({"_size": 0}, "Invalid value 0 for parameter '_size'. Allowed values: a positive"),
        ({"_size": "ten"}, "Invalid value 'ten' for parameter '_size'"),
        ({"_size": True}, "Invalid value true for parameter '_size'"),  # as JSON, not repr
    ],
)  # fmt: skip
def test_find_rejects_bad_queries_naming_parameter_value_and_allowed(
    engine: Engine, query: dict[str, Any], message: str
) -> None:
    register(engine)
    with pytest.raises(BadRequest) as raised:
        engine.find(query)
    assert raised.value.message.startswith(message), raised.value.message


def test_find_rejects_a_query_that_is_not_an_object(engine: Engine) -> None:
    with pytest.raises(BadRequest, match="Invalid query"):
        engine.find("status=FINISHED")  # type: ignore[arg-type]
