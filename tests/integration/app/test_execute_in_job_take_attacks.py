"""Attacks on an executeInJob owner taking over its parts: the owner dies between noting a
take and making it, and the part is canceled meanwhile — on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from sysjobs.host import Host
from sysjobs.jobs import JobContext, LeaseLost, Outcome, new_owner
from sysjobs.worker.scripts import bind_to_job
from tests.integration.app.test_execute_in_job_parts import (
    COUNT,
    clock,
    counts,
    db_url,
    host,
    module_clock,
    parts_of,
    shared_host,
    start,
)
from tests.integration.engine.helpers import ManualClock

#: The fixtures, shared with the parts' tests: this module's Host on its database, emptied
#: before each test.
__all__ = ["clock", "db_url", "host", "module_clock", "shared_host"]


class Died(BaseException):
    """The owner's worker process died (no retry loop catches it)."""


def run_owner(host: Host) -> Outcome | None:
    """Claim the owner (the only PENDING job) and run its handler as a worker does; None
    when its worker died."""
    (claimed,) = host.engine.leases.claim(new_owner(), limit=1)
    ctx = JobContext(host.engine, claimed.lease, claimed.job, checkpoint=claimed.checkpoint,
                     script_runner=host.runner)  # fmt: skip
    ctx.script_runner = bind_to_job(host.runner, ctx)
    job_type = host.engine.registry.require("EXECUTE_IN_JOB")
    try:
        job_type.handler(ctx, job_type.data_model.model_validate(claimed.job.data))
    except (Died, LeaseLost):
        return None
    host.engine.leases.finish(ctx.lease, Outcome.COMPLETED, results=ctx.state.results,
                              progress=ctx.state.progress)  # fmt: skip
    return Outcome.COMPLETED


def test_a_part_canceled_while_its_owner_was_dead_mid_take_is_not_run(
    host: Host, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner notes the part it is about to take, then dies before the take; while it
    is down a user cancels that part. Back, the owner must not take the cancel for its own
    take: the part's items stay unrun, and the owner says so."""
    owner = start(host)

    def die(*_: Any) -> None:
        raise Died

    monkeypatch.setattr(host.engine, "take_pending", die)
    assert run_owner(host) is None
    monkeypatch.undo()
    first = parts_of(host, owner)[0]
    assert str(host.engine.cancel(first.id).status) == "CANCELED"
    clock.advance(31_000)  # the dead worker's lease runs out
    assert host.engine.reap() == 1
    assert run_owner(host) is Outcome.COMPLETED
    done = host.engine.require(owner)
    part = range(int(first.data["_first"]), int(first.data["_first"]) + first.data["itemsCount"])
    assert [counts(host)[i] for i in part] == [0] * len(part)
    assert done.results is not None
    assert done.results["itemsProcessed"] == COUNT - len(part)
    assert done.has_errors  # "Part …: ended CANCELED: its items did not all run"


def test_ten_thousand_items_of_a_kilobyte_each_run_once_in_parts(host: Host) -> None:
    source = ("var a = []; for (var i = 0; i < 10000; i++) a.push(i + ':' + 'x'.repeat(1024)); "
              "sys.jobs.executeInJob(a, 'default', function (item) { "
              "if (item.length !== 1024 + String(parseInt(item)).length + 1) "
              "throw new Error('changed ' + item.length); })")  # fmt: skip
    result = host.run(source)
    assert result.ok, result.error
    with host.workers(3, in_process=True):
        done = host.engine.wait(str(result.value), ["FINISHED"], 300)
    assert done.results == {"itemsCount": 10_000, "itemsProcessed": 10_000, "itemsFailed": 0,
                            "chunks": 100}  # fmt: skip
    assert not done.has_errors
