"""The app's status is read once per change, not once per claim: a hold on job types keeps
its answer while its version (``Engine.table_changes``) stays put, and the version moves
with every commit that writes the status — in this process, or heard from another one.

The hold here reads the real status row (``app_state``) the way the app's does, counting
its reads; the status is written through the app's own store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, EngineSettings
from sysjobs.store.app_misc import AppStores
from tests.integration.engine.helpers import ManualClock, open_engine

APP = "status-cache-test"


class StatusHold:
    """Holds ``NOOP`` while the app's status is STOPPED, counting its database reads."""

    def __init__(self, stores: AppStores) -> None:
        self.stores = stores
        self.reads = 0

    def __call__(self) -> frozenset[str]:
        self.reads += 1
        stopped = self.stores.misc.app_status(APP) == "STOPPED"
        return frozenset({"NOOP"}) if stopped else frozenset()


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every engine and pool they open; taking a new
    one from the pool and checking it on the way back cost more than many tests here."""
    return reused_db_url


@pytest.fixture
def eng(db_url: str) -> Iterator[Engine]:
    with open_engine(db_url, EngineSettings(clock=ManualClock())) as engine:
        yield engine


def _hold(engine: Engine) -> StatusHold:
    hold = StatusHold(AppStores.for_db(engine.database, engine.app))
    engine.registry.hold(hold, version=engine.table_changes("app_state"))
    return hold


def test_claims_read_the_apps_status_once_while_it_does_not_change(eng: Engine) -> None:
    hold = _hold(eng)
    for _ in range(50):
        assert eng.leases.claim("w", limit=1) == []
        eng.leases.claim_spec("w", limit=1)
    assert hold.reads == 1


def test_a_status_change_is_seen_by_the_next_claim(eng: Engine) -> None:
    hold = _hold(eng)
    misc = AppStores.for_db(eng.database, eng.app).misc
    job = eng.enqueue("NOOP", {})
    misc.set_app_status(APP, "STOPPED")
    assert eng.leases.claim("w", limit=5, types=None) == []
    spec = eng.leases.claim_spec("w", limit=1)
    assert spec is not None and "NOOP" not in spec.types
    misc.set_app_status(APP, "STARTED")
    [claimed] = eng.leases.claim("w", limit=5)
    assert claimed.job.id == job.id
    assert hold.reads == 2  # once per status it had, not once per claim


def test_a_status_change_by_another_process_is_seen_after_its_hint(
    db_url: str, eng: Engine
) -> None:
    hold = _hold(eng)
    job = eng.enqueue("NOOP", {})
    spec = eng.leases.claim_spec("w", limit=1)  # the status is read (and kept): running
    assert spec is not None and "NOOP" in spec.types and hold.reads == 1
    with eng.hub.watch(["table:app_state"]) as watch:  # listening, as a running pool is
        watch.mark()
        with Engine.open(db_url) as other:
            other.table_changes("app_state")  # its writes to the status are announced
            AppStores.for_db(other.database, other.app).misc.set_app_status(APP, "STOPPED")
        assert watch.wait(60)  # the other connection's commit was heard here
    assert eng.leases.claim("w", limit=5) == []
    assert hold.reads == 2
    assert eng.require(job.id).status == "PENDING"


def test_a_hold_without_a_version_is_asked_at_every_claim(eng: Engine) -> None:
    hold = StatusHold(AppStores.for_db(eng.database, eng.app))
    eng.registry.hold(hold)
    for _ in range(5):
        eng.leases.claim_spec("w", limit=1)
    assert hold.reads == 5
