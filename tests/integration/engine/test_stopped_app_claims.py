"""A job of an app stopped while its claim was on the way is given back, never run.

A pool reads which types it may claim (the app's status, cached until it changes) before
its claim runs. A claimer paused between the two — or one that has not yet heard another
process stop the app — leases a job of the stopped app. The pool checks what it claimed
against the status read afresh once the claim returned, and gives such a job back: to
waiting, exactly as before the claim. Once the app is resumed it runs, once.

No sleeps: the pool below pauses at a seam between its read and its claim, where the test
stops the app through another engine — another process's write, which this one has not
heard (nothing listens here), so only a fresh read can see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from sysjobs.jobs import Claimed, ClaimSpec, Engine, Job, Lease
from sysjobs.jobs.leases import ClaimCriteria
from sysjobs.store.app_misc import AppMiscStore, AppStores
from sysjobs.worker import WorkerPool
from sysjobs.worker.execution import Running
from sysjobs.worker.served import ServedApp
from tests.integration.engine.helpers import open_engine, running_pool
from tests.integration.engine.jobtypes import register

STATUS_KEY = "paused-claim-test"
HELD = "RECORD_RUN"


class PausedPool(WorkerPool):
    """A pool whose claimer is held up right after it read whose jobs it may take: at the
    dispatcher's claim (``_lease``) and at a finishing slot's next claim (``_next_claim``)
    — ``pause`` runs there, once."""

    def __init__(self, engine: Engine, pause: Callable[[], None], **options: object) -> None:
        super().__init__(engine, **options)  # type: ignore[arg-type]
        self._pauses = [pause]

    def _pause(self) -> None:
        while self._pauses:
            self._pauses.pop()()

    def _lease(self, limit: int, criteria: ClaimCriteria) -> list[Claimed]:
        self._pause()
        return super()._lease(limit, criteria)

    def _next_claim(self, leaving: Running) -> ClaimSpec | None:
        spec = super()._next_claim(leaving)
        self._pause()
        return spec


def _misc(engine: Engine) -> AppMiscStore:
    return AppStores.for_db(engine.database, engine.app).misc


def _hold(engine: Engine) -> None:
    """Hold ``RECORD_RUN`` while the status is STOPPED, cached as the Host caches it."""

    def held() -> frozenset[str]:
        return frozenset({HELD}) if _misc(engine).app_status(STATUS_KEY) == "STOPPED" else frozenset()

    engine.registry.hold(held, version=engine.table_changes("app_state"))


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine and pool they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url) as engine:
        _hold(engine)
        yield engine


@pytest.fixture
def elsewhere(db_url: str) -> Iterator[Callable[[], None]]:
    """Stops the app through another engine on the database (as STOP_APP in another
    worker process): this process's cached status does not move."""
    with Engine.open(db_url) as other:
        other.table_changes("app_state")
        yield lambda: _misc(other).set_app_status(STATUS_KEY, "STOPPED")


def _runs(engine: Engine, job_id: str) -> int:
    return sum(e.message.startswith("ran in") for e in engine.logs(job_id, {}))


def _waiting_as_enqueued(engine: Engine, job: Job) -> None:
    now = engine.require(job.id)
    assert (now.status, now.attempt, now.started_at, now.progress) == ("PENDING", 0, None, 0)
    assert [(e.from_status, e.to_status) for e in engine.events(job.id)] == [(None, "PENDING")]
    assert _runs(engine, job.id) == 0


def _resume_and_run(engine: Engine, job: Job) -> None:
    """Resume the app (this process's write), let a pool run the job; it ran once."""
    _misc(engine).set_app_status(STATUS_KEY, "STARTED")
    with running_pool(engine):
        done = engine.wait(job.id, ["FINISHED"], 30)
    assert (done.attempt, _runs(engine, job.id)) == (1, 1)


def test_a_claim_paused_while_the_app_is_stopped_gives_the_job_back_and_it_runs_once_resumed(
    eng: Engine, elsewhere: Callable[[], None]
) -> None:
    job = eng.enqueue(HELD, {})
    pool = PausedPool(eng, elsewhere, concurrency=2)
    assert pool.dispatch_once(True) == []  # claimed, found held, given back: nothing runs
    _waiting_as_enqueued(eng, job)
    assert pool.dispatch_once(True) == []  # the fresh status is kept: not even claimed now
    _waiting_as_enqueued(eng, job)
    _resume_and_run(eng, job)


def test_a_finishing_slots_next_claim_paused_while_the_app_is_stopped_gives_its_job_back(
    eng: Engine, elsewhere: Callable[[], None]
) -> None:
    first = eng.enqueue("NOOP", {})  # not held: it runs, and its end claims the next job
    job = eng.enqueue(HELD, {})
    pool = PausedPool(eng, lambda: None, concurrency=1)
    (claimed,) = pool.dispatch_once(True)
    assert claimed.job.id == first.id
    pool._pauses = [elsewhere]  # the slot's next claim is specified, then the app stops
    pool._run(pool._adopt(claimed))  # runs the job, ends it with the next claim, in this thread
    assert eng.require(first.id).status == "FINISHED"
    assert pool.running == {}
    _waiting_as_enqueued(eng, job)
    _resume_and_run(eng, job)


def test_in_one_claim_only_the_stopped_apps_jobs_are_given_back(
    eng: Engine, elsewhere: Callable[[], None]
) -> None:
    other = eng.for_app("other-app")
    register(other)
    mine = [eng.enqueue(HELD, {}) for _ in range(3)]
    theirs = [other.enqueue(HELD, {}) for _ in range(3)]
    served = {eng.app: ServedApp(eng), other.app: ServedApp(other)}
    pool = PausedPool(eng, elsewhere, concurrency=8, apps=served)
    claimed = pool.dispatch_once(True)
    assert sorted(c.job.id for c in claimed) == sorted(j.id for j in theirs)
    assert {other.require(j.id).status for j in theirs} == {"RUNNING"}
    for job in mine:
        _waiting_as_enqueued(eng, job)
    for item in claimed:  # the other app's jobs run as claimed
        pool._run(pool._adopt(item))
    assert [(other.require(j.id).attempt, _runs(other, j.id)) for j in theirs] == [(1, 1)] * 3


def test_a_give_back_that_fails_is_retried_before_the_next_claim_and_the_job_never_runs(
    eng: Engine, elsewhere: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = eng.enqueue(HELD, {})
    pool = PausedPool(eng, elsewhere, concurrency=2)
    give_back = eng.leases.give_back
    outage = [sa.exc.OperationalError("UPDATE jobs", {}, ConnectionError("server closed"))]

    def flaky(leases: list[Lease]) -> list[str]:
        if outage:
            raise outage.pop()
        return give_back(leases)

    monkeypatch.setattr(eng.leases, "give_back", flaky)
    assert pool.dispatch_once(True) == []  # held: not run, though its lease stays for now
    assert eng.require(job.id).status == "RUNNING" and _runs(eng, job.id) == 0
    assert pool.dispatch_once(True) == []  # the give-back again, first: and no new claim
    _waiting_as_enqueued(eng, job)
    _resume_and_run(eng, job)


def test_when_the_status_cannot_be_read_after_a_claim_its_jobs_go_back_unrun(
    db_url: str,
) -> None:
    with open_engine(db_url) as engine:
        failing: list[bool] = []

        def held() -> frozenset[str]:
            if failing:
                raise sa.exc.OperationalError("SELECT app_state", {}, ConnectionError("gone"))
            return frozenset()

        engine.registry.hold(held, version=engine.table_changes("app_state"))
        job = engine.enqueue(HELD, {})
        pool = PausedPool(engine, lambda: failing.append(True), concurrency=2)
        assert pool.dispatch_once(True) == []
        _waiting_as_enqueued(engine, job)
        failing.clear()
        (claimed,) = pool.dispatch_once(True)  # readable again: claimed, and runnable
        assert claimed.job.id == job.id


def test_a_claim_of_types_no_hold_may_name_asks_no_status_afresh(db_url: str) -> None:
    with open_engine(db_url) as engine:
        asked: list[int] = []

        def held() -> frozenset[str]:
            asked.append(1)
            return frozenset()

        engine.registry.hold(held, version=engine.table_changes("app_state"), within={HELD})
        pool = WorkerPool(engine, concurrency=2)
        engine.enqueue("NOOP", {})
        assert len(pool.dispatch_once(True)) == 1
        assert len(asked) == 1  # the claim's own (cached) read only
        engine.enqueue(HELD, {})
        assert len(pool.dispatch_once(True)) == 1
        assert len(asked) == 2  # a job it may hold: asked again once claimed


def test_a_pool_that_stops_gives_back_what_it_could_not_give_back_yet(
    eng: Engine, elsewhere: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = eng.enqueue(HELD, {})
    pool = PausedPool(eng, elsewhere, concurrency=2)
    give_back = eng.leases.give_back
    outage = [sa.exc.OperationalError("UPDATE jobs", {}, ConnectionError("server closed"))]

    def flaky(leases: list[Lease]) -> list[str]:
        if outage:
            raise outage.pop()
        return give_back(leases)

    monkeypatch.setattr(eng.leases, "give_back", flaky)
    assert pool.dispatch_once(True) == []
    assert eng.require(job.id).status == "RUNNING"
    pool.stop(grace_s=0)  # (never started: only its way out)
    _waiting_as_enqueued(eng, job)
