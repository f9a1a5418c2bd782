"""The wait loop, the hub, queue limits, outcome mapping and the reaper's decisions."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sysjobs.jobs.hub import Hub
from sysjobs.jobs.leases import TARGETS, Outcome
from sysjobs.jobs.reaping import decide_lost
from sysjobs.jobs.waiting import wait_until
from sysjobs.worker.queues import default_limits, free_slots, parse_queues


def test_wait_until_returns_the_first_value_read_without_waiting() -> None:
    assert wait_until(lambda: 5, hub=Hub(), keys=["k"], timeout_s=10, poll=lambda _: 10) == 5


def test_wait_until_wakes_on_a_hint_for_its_key_well_before_the_poll() -> None:
    hub, box = Hub(), []
    threading.Timer(0.05, lambda: (box.append(1), hub.notify(["job:x"]))).start()
    started = time.monotonic()
    # The poll is ten minutes away: only the hint can end the wait within half of that
    # (no threshold a loaded machine could cross).
    found = wait_until(lambda: box[0] if box else None, hub=hub, keys=["job:x"],
                       timeout_s=600, poll=lambda _: 600.0)  # fmt: skip
    assert found == 1 and time.monotonic() - started < 300


def test_a_hint_for_everything_wakes_every_waiter() -> None:
    hub, box = Hub(), []
    threading.Timer(0.05, lambda: (box.append(1), hub.notify(["*"]))).start()
    assert wait_until(lambda: box[0] if box else None, hub=hub, keys=["job:y"],
                      timeout_s=5, poll=lambda _: 5.0) == 1  # fmt: skip


def test_a_hint_nobody_watches_wakes_no_waiter() -> None:
    """A busy worker's commits name jobs nobody waits for: they must not wake the idle
    dispatcher (a waiter counts its wake-ups through the predicate it re-checks)."""
    hub, woken = Hub(), []
    with hub.watch(["work"]) as watch:
        predicate = hub._cond.wait_for

        checked = threading.Event()

        def counting(check: object, timeout: float | None = None) -> bool:
            def counted() -> object:
                woken.append(1)
                checked.set()
                return check()  # type: ignore[operator]

            return predicate(counted, timeout)

        hub._cond.wait_for = counting  # type: ignore[method-assign]
        waiter = threading.Thread(target=watch.wait, args=(0.5,))
        waiter.start()
        # Checked on entry, under the condition's lock: the hints below reach a waiter that
        # is waiting (notify takes the same lock, released only once it waits).
        assert checked.wait(30)
        for i in range(20):
            hub.notify([f"job:{i}"])
        time.sleep(0.05)  # a window for a wrongly woken waiter to show itself
        hub.notify(["work"])
        waiter.join()
    assert len(woken) == 2, "checked once on entry, once when 'work' was hinted"


def test_wait_until_polls_with_the_dialects_pace_and_times_out() -> None:
    rounds: list[int] = []

    def pace(idle: int) -> float:
        rounds.append(idle)
        return 0.01

    started = time.monotonic()
    assert wait_until(lambda: None, hub=Hub(), keys=["k"], timeout_s=0.1, poll=pace) is None
    assert time.monotonic() - started >= 0.1 and rounds[:3] == [0, 1, 2]


def test_the_hub_forgets_keys_nobody_watches() -> None:
    hub = Hub()
    with hub.watch(["job:a"]):
        hub.notify(["job:a", "job:b"])
    assert hub._generation == {}


def test_queue_limits_default_and_parse() -> None:
    assert default_limits(4) == {"mix": 4, "light": 4, "heavy": 2, "system": 1}
    assert parse_queues("mix,heavy=1", 4) == {"mix": 4, "heavy": 1}
    with pytest.raises(ValueError, match="unknown queue 'fast'"):
        parse_queues("fast", 4)


def test_free_slots_respect_each_queue_and_the_total() -> None:
    limits = {"mix": 4, "heavy": 1}
    assert free_slots(limits, {"heavy": 1}, 4) == {"mix": 3, "heavy": 0}
    assert free_slots(limits, {"mix": 4}, 4) == {"mix": 0, "heavy": 0}


def test_a_completed_run_finishes_even_if_a_stop_or_cancel_arrived_meanwhile() -> None:
    assert set(TARGETS[Outcome.COMPLETED].values()) == {"FINISHED"}
    assert TARGETS[Outcome.STOPPED] == {
        "RUNNING": "PENDING", "STOPPING": "STOPPED", "CANCELING": "CANCELED",
    }  # fmt: skip


def _lost(status: str = "RUNNING", lost: int = 0, retries: int = 0) -> dict[str, Any]:
    return {"status": status, "lost_count": lost, "max_retries": retries, "owner": "w1-ab",
            "attempt": 1, "lease_expires_ms": 1_000}  # fmt: skip


def test_the_reaper_ends_a_lost_job_with_a_clear_reason() -> None:
    status, _, level, message, error = decide_lost(_lost(), 3_500, None)
    assert (status, level) == ("FINISHED", "ERROR")
    assert message.startswith("Job lost: worker w1-ab stopped renewing its lease (attempt 1;")
    assert "2.5s ago" in message and "not idempotent" in message
    assert error == {"code": "systemException", "message": message}  # the results say it too


def test_the_reaper_retries_idempotent_jobs_until_the_cap() -> None:
    assert decide_lost(_lost(lost=0, retries=2), 2_000, "x")[0] == "PENDING"
    assert decide_lost(_lost(lost=1, retries=2), 2_000, "x")[0] == "PENDING"
    status, _, _, message, _ = decide_lost(_lost(lost=2, retries=2), 2_000, "x")
    assert status == "FINISHED" and "gave up after its worker was lost 3 times" in message


def test_the_reaper_completes_a_stop_or_cancel_in_flight() -> None:
    assert decide_lost(_lost("STOPPING"), 2_000, "died")[0] == "STOPPED"
    assert decide_lost(_lost("CANCELING"), 2_000, "died")[0] == "CANCELED"


def test_a_lost_job_ended_by_a_known_death_carries_its_code_in_the_results_error() -> None:
    status, _, _, message, error = decide_lost(_lost(), 2_000, "worker process 7 died", "memoryLimit")
    assert status == "FINISHED" and error == {"code": "memoryLimit", "message": message}
    assert decide_lost(_lost(lost=0, retries=1), 2_000, "x", "crashed")[4] is None  # retried
    assert decide_lost(_lost("STOPPING"), 2_000, "x", "crashed")[4] is None
