"""When a pool's heartbeat runs (``sysjobs.worker.beats``) and the hub's taps it listens with."""

from __future__ import annotations

import math
import threading

import pytest

from sysjobs.errors import BadRequest
from sysjobs.jobs.hub import Hub
from sysjobs.worker.beats import (
    CHECK,
    CHECK_GAP_S,
    EARLY_BEAT_GAP_S,
    KEPT_HINTS,
    STOP,
    TICK,
    BeatTimer,
    beat_interval,
)

#: Longer than any test may take: a beat that comes anyway fails the test by hanging it.
NEVER_S = 3600.0


def test_a_tap_hears_each_key_with_its_prefix_and_nothing_else() -> None:
    hub, heard = Hub(), list[str]()
    untap = hub.tap("stop:", heard.append)
    hub.notify(["job:a", "stop:a", "work", "stop:b"])
    hub.notify(["*"])  # "anything may have changed" names no job
    untap()
    hub.notify(["stop:c"])
    assert heard == ["a", "b"]


def test_taps_hear_keys_heard_from_other_processes_too() -> None:
    hub, heard = Hub(), list[str]()
    hub.tap("stop:", heard.append)
    hub.notify_heard(["stop:x"])
    assert heard == ["x"] and hub.heard == 1


def test_the_default_beat_is_a_third_of_the_lease_and_at_most_a_second() -> None:
    assert beat_interval(None, 0.3) == pytest.approx(0.1)
    assert beat_interval(None, 30.0) == 1.0
    assert beat_interval(2, 30.0) == 2.0


@pytest.mark.parametrize("value", [0, -1, 15.5, math.nan, math.inf, True, "1"])
def test_a_beat_that_is_not_a_positive_number_within_half_the_lease_is_refused(
    value: object,
) -> None:
    with pytest.raises(BadRequest) as caught:
        beat_interval(value, 30.0)
    assert "parameter 'beat_s'" in str(caught.value)
    assert "at most half the lease (15)" in str(caught.value)


def test_a_stop_hint_for_a_running_job_brings_the_beat_forward() -> None:
    hub, closed = Hub(), threading.Event()
    timer = BeatTimer(NEVER_S, {"j1": object()})
    timer.tap([hub, hub])  # the same hub twice (apps of one database) is tapped once
    threading.Timer(0.01, lambda: hub.notify(["stop:j1"])).start()
    assert timer.next_beat(closed) and timer.early_beats == 1


def test_a_stop_hint_for_a_job_the_pool_does_not_run_brings_nothing_forward() -> None:
    hub, closed = Hub(), threading.Event()
    timer = BeatTimer(NEVER_S, {"j1": object()})
    timer.tap([hub])
    hub.notify(["stop:other", "job:j1"])

    def close_later() -> None:
        closed.set()
        timer.close()

    threading.Timer(0.05, close_later).start()
    assert not timer.next_beat(closed)  # woken only by the close
    assert timer.early_beats == 0


def test_early_beats_are_spaced_however_many_stops_come() -> None:
    """A flood of stop hints: the beat after an early one waits the gap first (time
    counted by the gap's own wait, not measured)."""
    hub, closed = Hub(), threading.Event()
    timer = BeatTimer(NEVER_S, {"j1": object()})
    timer.tap([hub])
    hub.notify(["stop:j1"])
    assert timer.next_beat(closed)
    gaps: list[float] = []
    plain_wait = closed.wait

    def counted(timeout: float | None = None) -> bool:
        gaps.append(timeout or 0.0)
        return plain_wait(timeout)

    closed.wait = counted  # type: ignore[method-assign]
    hub.notify(["stop:j1"])
    assert timer.next_beat(closed)
    assert gaps == [EARLY_BEAT_GAP_S] and timer.early_beats == 2


def test_closing_wakes_the_waiting_beat_and_untaps() -> None:
    hub, closed, heard = Hub(), threading.Event(), list[str]()
    timer = BeatTimer(NEVER_S, {"j1": object()})
    timer.tap([hub])

    def close_later() -> None:
        closed.set()
        timer.close()

    threading.Timer(0.01, close_later).start()
    assert not timer.next_beat(closed)
    hub.tap("stop:", heard.append)
    hub.notify(["stop:j1"])  # only the test's own tap is left
    assert heard == ["j1"] and len(hub._taps) == 1


def test_a_stop_hinted_before_the_pool_holds_its_job_beats_when_the_pool_adopts_it() -> None:
    """The claim made the job RUNNING and a stop came before the pool put it in ``running``:
    the adoption brings the beat forward."""
    hub, closed, running = Hub(), threading.Event(), dict[str, object]()
    timer = BeatTimer(NEVER_S, running)
    timer.tap([hub])
    hub.notify(["stop:j1"])  # not held yet: kept
    running["j1"] = object()
    timer.adopted("j1")
    assert timer.next_beat(closed) and timer.early_beats == 1


def test_hints_kept_for_jobs_not_held_are_bounded() -> None:
    hub, closed, running = Hub(), threading.Event(), dict[str, object]()
    timer = BeatTimer(NEVER_S, running)
    timer.tap([hub])
    hub.notify(["stop:first"])
    hub.notify([f"stop:other-{n}" for n in range(KEPT_HINTS)])  # other pools' jobs
    running["first"] = object()
    timer.adopted("first")  # its hint was pushed out: the regular beat relays it

    def close_later() -> None:
        closed.set()
        timer.close()

    threading.Timer(0.05, close_later).start()
    assert not timer.next_beat(closed) and len(timer._kept) == KEPT_HINTS


def test_a_hint_that_names_nothing_asks_for_a_check_of_the_held_jobs_first() -> None:
    """SQLite's WAL watch hints ``*`` for any commit: the pool reads its jobs' statuses
    before it writes a beat."""
    hub, closed = Hub(), threading.Event()
    timer = BeatTimer(NEVER_S, {"j1": object()})
    timer.tap([hub])
    hub.notify(["*"])
    assert timer.next_beat(closed) == CHECK and timer.early_beats == 0
    hub.notify(["*", "stop:j1"])  # a stop named as well: a beat at once
    assert timer.next_beat(closed) == STOP and timer.early_beats == 1


def test_a_hint_that_names_nothing_asks_for_no_check_while_no_job_is_held() -> None:
    hub, closed = Hub(), threading.Event()
    timer = BeatTimer(0.01, {})
    timer.tap([hub])
    hub.notify(["*"])
    assert timer.next_beat(closed) == TICK  # the interval's own beat (registry, leases)


def _beats_under_a_stream_of_star_hints(timer: BeatTimer, hub: Hub) -> list[str | None]:
    """What ``timer`` says is due, call after call, up to its regular beat, while ``*`` hints
    come every 5 ms (a busy SQLite fleet's commits); the first hint before the first call."""
    closed, stop = threading.Event(), threading.Event()

    def commits() -> None:
        while not stop.wait(0.005):
            hub.notify(["*"])

    hub.notify(["*"])
    thread = threading.Thread(target=commits)
    thread.start()
    try:
        due = [timer.next_beat(closed)]
        while due[-1] != TICK and len(due) < 1000:  # (checks come 250 ms apart at most)
            due.append(timer.next_beat(closed))
    finally:
        stop.set()
        thread.join()
    return due


def test_hints_that_name_nothing_never_push_the_regular_beat_back() -> None:
    """A busy SQLite process hints ``*`` for each of its own commits, far more often than
    it beats: the regular beat (which renews the leases) still comes when due. Without its
    fixed due time each check restarted the interval, and no beat came at all."""
    hub = Hub()
    timer = BeatTimer(0.2, {"j1": object()})
    timer.tap([hub])
    due = _beats_under_a_stream_of_star_hints(timer, hub)
    assert due[0] == CHECK and due[-1] == TICK


def test_checks_are_spaced_however_many_hints_name_nothing() -> None:
    """A check (a read) comes at most every ``CHECK_GAP_S``: before the regular beat a
    second away, at most five of them, however late a loaded machine runs this thread (a
    late thread checks less, never more)."""
    hub = Hub()
    timer = BeatTimer(1.0, {"j1": object()})
    timer.tap([hub])
    due = _beats_under_a_stream_of_star_hints(timer, hub)
    assert due[0] == CHECK and due.count(CHECK) <= 1.0 / CHECK_GAP_S + 1
