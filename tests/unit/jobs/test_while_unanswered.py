"""One retry rule for writes through a database outage (``jobs.clock.while_unanswered``).

The worker's end-of-job write and executeInJob's writes share it. On a clock that waits
(a :class:`~sysjobs.jobs.clock.Sleeper`: the engine's injected one) the window and the
pauses are that clock's; on a clock that neither waits nor moves with the machine, the
pauses are real sleeps and the window is timed by the machine — so the retries end.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sysjobs.errors import BadRequest
from sysjobs.jobs.clock import SYSTEM_CLOCK, Sleeper, waits, while_unanswered
from tests.integration.engine.helpers import ManualClock, SteppingClock


def _unanswered() -> str:
    raise sa.exc.OperationalError("SELECT 1", {}, ConnectionError("server closed"))


def test_the_pauses_and_the_window_are_the_waiting_clocks() -> None:
    clock, warned = SteppingClock(), []
    with pytest.raises(sa.exc.OperationalError):
        while_unanswered(clock, _unanswered, within_s=10.0, warn=lambda: warned.append(1))
    assert clock.waits == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    assert len(warned) == len(clock.waits)


def test_a_clock_that_neither_waits_nor_moves_still_ends_the_retries() -> None:
    frozen = ManualClock()  # no sleep(), and its time stands still
    calls = []

    def unanswered() -> str:
        calls.append(1)
        return _unanswered()

    with pytest.raises(sa.exc.OperationalError):
        while_unanswered(frozen, unanswered, within_s=0.25, warn=lambda: None)
    # ended by the machine's time: 0.1 s of sleep, then 0.2 s more would pass the window
    # (one call only if the machine stalled 0.15 s before the first pause)
    assert 1 <= len(calls) <= 2


def test_an_answer_of_sysjobs_own_is_raised_at_once() -> None:
    clock, calls = SteppingClock(), []

    def refused() -> str:
        calls.append(1)
        raise BadRequest("not an outage")

    with pytest.raises(BadRequest):
        while_unanswered(clock, refused, within_s=10.0, warn=lambda: None)
    assert calls == [1] and clock.waits == []


def test_a_call_answered_after_an_outage_returns_its_answer() -> None:
    clock, left = SteppingClock(), [2]

    def later() -> str:
        if left[0]:
            left[0] -= 1
            return _unanswered()
        return "answered"

    assert while_unanswered(clock, later, within_s=10.0, warn=lambda: None) == "answered"
    assert clock.waits == [0.1, 0.2]


def test_a_clock_waits_when_its_class_has_sleep_whatever_the_instance() -> None:
    """``waits`` decides by the class, once (the protocol's own check costs ~10 µs a call,
    paid at every job's end): the same answers as ``isinstance(clock, Sleeper)``."""
    clocks = [SteppingClock(), SteppingClock(), ManualClock(), ManualClock(), SYSTEM_CLOCK]
    assert [waits(c) for c in clocks] == [isinstance(c, Sleeper) for c in clocks]
    assert [waits(c) for c in clocks] == [True, True, False, False, True]
