"""``sysjobs jobs stats`` counts what a person on call looks for: depth, age, running, losses."""

from __future__ import annotations

import json
from dataclasses import replace

from sysjobs.jobs import Engine, EngineSettings, new_owner
from sysjobs.jobs.ids import now_ms
from sysjobs.jobs.models import to_ms
from tests.acceptance.cli.conftest import STEPS, Cli
from tests.integration.engine.helpers import AheadClock

SHORT = EngineSettings(lease_s=0.2, stop_grace_s=0.2)


def test_running_pending_age_and_a_lost_lease(cli: Cli, db_url: str) -> None:
    with Engine.open(db_url, settings=SHORT) as engine:
        engine.register(STEPS)
        lost = engine.enqueue("STEPS", {"steps": 1})
        (claimed,) = engine.leases.claim(new_owner(), limit=1)
        lease_expired_ms = now_ms() + int(SHORT.lease_s * 1000) + 1
        assert claimed.job.id == lost.id
        waiting = engine.enqueue("STEPS", {"steps": 1}, queue="light")
        created = to_ms(waiting.created_at) or 0
        before = now_ms()
        held = json.loads(cli("jobs", "stats", "--json").stdout)
        after_call = now_ms()
        assert (held["running"], held["pending"]) == (1, 1)
        # The age is the stats call's clock reading minus the oldest pending job's creation.
        assert before - created <= held["oldestPendingAgeMs"] <= after_call - created
        by_queue = {q["queue"]: q for q in held["queues"]}
        assert (by_queue["mix"]["running"], by_queue["light"]["pending"]) == (1, 1)
        # The worker goes silent: a reaper whose clock reads past the lease's end finds it
        # expired (the time passes on the reaper's clock; the test does not wait for it).
        ahead = AheadClock(max(0, lease_expired_ms - now_ms()))
        with Engine.open(db_url, settings=replace(SHORT, clock=ahead)) as reaper:
            assert reaper.reap() == 1
        after = json.loads(cli("jobs", "stats", "--json").stdout)
        engine.cancel(waiting.id)
    assert (after["running"], after["lostLeasesInWindow"], after["lostLeasesTotal"]) == (0, 1, 1)
    assert after["byStatus"]["FINISHED"] == 1
