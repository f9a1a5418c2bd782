"""PostgreSQL's ``sysjobs_end_and_claim_v8``: the short path of one app without limits.

A claim of one app with no concurrency limit of that app (a pool serving one app) goes
straight to the take — no lock-key query, no fair rounds; every other claim (two apps, a
limit of the app, types of its own, two claims in one call) takes ``_v7``'s path with its
locks. Which path ran is read from the transaction's function counts
(``pg_stat_xact_user_functions``) and its advisory locks (``pg_locks``); what each path
claims is compared with ``sysjobs_end_and_claim_v7``'s answer on the same rows, each call in
a transaction rolled back. And a job claimed again through the short path, in an
end-and-claim, still brings its results and checkpoint (on both databases).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from sysjobs.store.backend import ClaimSpec
from sysjobs.store.database import Database
from sysjobs.store.jobstore import JobStore
from sysjobs.store.listing import JobFilter
from sysjobs.store.postgres.leases import FUNCTION, _claims_json
from tests.integration.engine.helpers import ManualClock
from tests.integration.store.test_backend_contract import Setup, end, spec

PG = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
LOST = ("PENDING", "lost", "INFO", "taken back", None)


@pytest.fixture
def s(db_url: str) -> Iterator[Setup]:
    db = Database(db_url)
    hints: list[str] = []
    db.local_sink = hints.extend
    clock = ManualClock()
    try:
        yield Setup(db, db.backend(clock.now_ms), clock, hints)
    finally:
        db.close()


def _call(s: Setup, function: str, claims: Sequence[ClaimSpec]) -> dict[str, Any]:
    """One call of ``function`` (no ends) in a transaction rolled back: the claimed ids per
    claim, the functions it called, its advisory locks, the claim events it wrote."""
    engine = s.db.engine
    with engine.connect() as conn, conn.begin() as tx:
        conn.exec_driver_sql("SET LOCAL track_functions = 'pl'")
        answer = conn.exec_driver_sql(
            f"SELECT {function}('[]'::json, %s::json, NULL, true)",
            (_claims_json(claims, s.clock.now_ms()),),
        ).scalar_one()
        called = {name for (name,) in conn.exec_driver_sql(
            "SELECT funcname FROM pg_stat_xact_user_functions WHERE calls > 0")}  # fmt: skip
        locks = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND pid = pg_backend_pid()").scalar_one()  # fmt: skip
        events = conn.exec_driver_sql(
            "SELECT job_id, app, at_ms, attempt, owner FROM job_events"
            " WHERE reason = 'claimed' ORDER BY id").all()  # fmt: skip
        tx.rollback()
    claimed = [[(row["id"], row["attempt"], row["owner"]) for row, _r, _c in rows]
               for rows in answer["claimed"]]  # fmt: skip
    return {"claimed": claimed, "called": called, "locks": locks,
            "events": [tuple(e) for e in events]}  # fmt: skip


def _spec(limit: int = 3, *, apps: Sequence[str] = ("contract",),
          queue_caps: Mapping[str, Mapping[str, int]] | None = None,
          app_caps: Mapping[str, int] | None = None,
          app_types: Mapping[str, Sequence[str]] | None = None) -> ClaimSpec:  # fmt: skip
    return replace(spec("w1", limit), apps=tuple(apps), queue_caps=queue_caps or {},
                   app_caps=app_caps or {}, app_types=app_types or {})  # fmt: skip


def _backlog(s: Setup) -> list[str]:
    """Two normal jobs, a low-priority one, a job of another queue and of another type."""
    jobs = [s.enqueue(), s.enqueue(low=True), s.enqueue()]
    s.enqueue(queue="heavy")
    s.enqueue(type_="OTHER")
    return jobs


def test_the_release_calls_the_v8_function() -> None:
    assert FUNCTION == "sysjobs_end_and_claim_v8"


@PG
def test_one_app_without_limits_goes_straight_to_the_take_and_locks_nothing(s: Setup) -> None:
    normal, low, second = _backlog(s)
    found = _call(s, FUNCTION, [_spec(5)])
    assert found["claimed"] == [[(normal, 1, "w1"), (second, 1, "w1"), (low, 1, "w1")]]
    assert "sysjobs_claim_take_v7" in found["called"]
    assert found["called"] & {"sysjobs_claim_fair_v7", "sysjobs_claim_batch_v7"} == set()
    assert found["locks"] == 0


@PG
@pytest.mark.parametrize(
    "claim",
    [
        pytest.param(_spec(queue_caps={"contract": {"mix": 2}}), id="a queue limit of the app"),
        pytest.param(_spec(app_caps={"contract": 2}), id="a cap of the app"),
    ],
)
def test_a_limit_of_the_app_takes_the_locked_path_and_is_kept(s: Setup, claim: ClaimSpec) -> None:
    normal, _low, second = _backlog(s)
    found = _call(s, FUNCTION, [claim])
    assert found["claimed"] == [[(normal, 1, "w1"), (second, 1, "w1")]]  # 2 of 3: the limit
    assert {"sysjobs_claim_fair_v7", "sysjobs_claim_batch_v7"} <= found["called"]
    assert found["locks"] == 1


@PG
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param([_spec(apps=("contract", "other"))], id="two apps"),
        pytest.param([_spec(app_types={"contract": ["T"]})], id="types of the app's own"),
        pytest.param([_spec(1), replace(_spec(2), owner="w2")], id="two claims in one call"),
    ],
)
def test_every_other_claim_takes_the_fair_rounds(s: Setup, claims: list[ClaimSpec]) -> None:
    _backlog(s)
    found = _call(s, FUNCTION, claims)
    assert "sysjobs_claim_fair_v7" in found["called"]
    assert found["locks"] == 0


@PG
@pytest.mark.parametrize(
    "claims",
    [
        pytest.param([_spec(5)], id="one app, normal then low"),
        pytest.param([replace(_spec(5), allow_low=False)], id="no low priority"),
        pytest.param([_spec(1)], id="fewer slots than jobs"),
        pytest.param([_spec(0)], id="no slot"),
        pytest.param([replace(_spec(5), queues=())], id="no queue"),
        pytest.param([replace(_spec(5), types=())], id="no type"),
        pytest.param([replace(_spec(5), queues=("heavy", "mix"))], id="two queues"),
        pytest.param([_spec(5, queue_caps={"elsewhere": {"mix": 1}}, app_caps={"elsewhere": 1})],
                     id="limits of another app only"),
        pytest.param([_spec(5, queue_caps={"contract": {"mix": 2}})], id="a queue limit"),
        pytest.param([_spec(5, app_caps={"contract": 1})], id="an app cap"),
        pytest.param([_spec(5, app_caps={"contract": 0})], id="a cap of nothing"),
        pytest.param([_spec(5, apps=("contract", "contract"))], id="the same app twice"),
        pytest.param([_spec(5, apps=("other",))], id="an app without jobs"),
        pytest.param([_spec(5, apps=("contract", "other"))], id="two apps"),
        pytest.param([_spec(1), replace(_spec(2), owner="w2")], id="two claims"),
        pytest.param([], id="no claim"),
    ],
)
def test_v8_claims_what_v7_claims_in_the_same_order_with_the_same_events(
    s: Setup, claims: list[ClaimSpec]
) -> None:
    _backlog(s)
    before = _call(s, "sysjobs_end_and_claim_v7", claims)
    now = _call(s, FUNCTION, claims)
    assert (now["claimed"], now["events"], now["locks"]) == (
        before["claimed"], before["events"], before["locks"])
    assert len(now["claimed"]) == len(claims)


@PG
def test_limits_of_another_app_leave_the_short_path_open(s: Setup) -> None:
    _backlog(s)
    claim = _spec(5, queue_caps={"elsewhere": {"mix": 1}}, app_caps={"elsewhere": 1})
    found = _call(s, FUNCTION, [claim])
    assert "sysjobs_claim_fair_v7" not in found["called"] and found["locks"] == 0
    assert len(found["claimed"][0]) == 3


def test_a_job_claimed_again_in_an_end_and_claim_brings_its_results_and_checkpoint(
    s: Setup,
) -> None:
    first = s.enqueue()
    (held,) = s.claim("w2", 1)
    again = s.enqueue()
    (lost,) = s.claim("w1", 1)
    assert (held["id"], lost["id"]) == (first, again)
    key = (again, "w1", 1)
    assert s.backend.write_result_fields(*key, {"results": {"r": [1, "ü"]}}) is True
    assert s.backend.write_result_fields(*key, {"checkpoint": {"done": 7}}) is True
    assert [r["id"] for r in s.backend.recover(lambda row: LOST, owner="w1")] == [again]
    s.clock.advance(5)
    ended, (claimed,) = s.backend.finish([end(held)], [spec("w2", 1)])
    assert [r["status"] for r in ended if r is not None] == ["FINISHED"]
    (row,) = claimed
    assert (row["id"], row["attempt"], row["owner"], row["status"]) == (again, 2, "w2", "RUNNING")
    assert (row["results"], row["checkpoint"]) == ({"r": [1, "ü"]}, {"done": 7})
    events = JobStore(s.db).events(again, apps=None)
    assert [(e["to_status"], e["attempt"], e["reason"]) for e in events][-1] == (
        "RUNNING", 2, "claimed")
    assert f"job:{again}" in s.hints


def test_an_end_without_a_claim_ends_and_claims_nothing(s: Setup) -> None:
    job = s.enqueue()
    s.enqueue()
    (held,) = s.claim("w1", 1)
    ended, claimed = s.backend.finish([end(held)], [])
    assert ([r["id"] for r in ended if r is not None], claimed) == ([job], [])
    assert [r["status"] for r in s.backend.jobs_page(JobFilter(), None, 10)].count("PENDING") == 1

