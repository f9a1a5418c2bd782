"""executeInJob's writes ride out a database outage, timed by the engine's clock.

``_steady`` retries a write while the database does not answer, pausing longer each time,
for up to ``DB_RETRY_S`` — measured on the clock it is given (the engine's injected one,
not the machine's monotonic clock), and waiting through that clock too: a clock that can
wait (:class:`~sysjobs.jobs.clock.Sleeper`) steps its own time, so these tests drive an
outage of minutes without sleeping.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sysjobs.app.jobtypes.in_job import DB_RETRY_S, _steady
from sysjobs.jobs import LeaseLost
from sysjobs.jobs.clock import SYSTEM_CLOCK, Sleeper
from tests.integration.engine.helpers import ManualClock, SteppingClock


class Outage:
    """A database call that does not answer ``times`` times (``None``: ever), then does."""

    def __init__(self, times: int | None) -> None:
        self.left = times
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.left is None or self.left > 0:
            self.left = None if self.left is None else self.left - 1
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionError("server closed"))
        return "answered"


def test_a_short_outage_is_retried_with_growing_pauses_on_the_engines_clock() -> None:
    clock = SteppingClock()
    start = clock.now_ms()
    assert _steady(clock, Outage(3)) == "answered"
    assert clock.waits == [0.1, 0.2, 0.4]
    assert clock.now_ms() - start == 700  # the outage took the clock's time, not the machine's


def test_an_outage_longer_than_the_retry_window_ends_in_its_error() -> None:
    clock = SteppingClock()
    start = clock.now_ms()
    outage = Outage(None)
    with pytest.raises(sa.exc.OperationalError):
        _steady(clock, outage)
    assert clock.waits[:6] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]
    assert set(clock.waits[5:]) == {2.0}  # the pause stops growing at 2 s
    waited_ms = clock.now_ms() - start
    assert waited_ms <= DB_RETRY_S * 1000 < waited_ms + 2_000  # gave up when the next would cross
    assert outage.calls == len(clock.waits) + 1


def test_the_retry_window_is_the_engines_clock_even_when_it_jumps() -> None:
    clock = SteppingClock()
    outage = Outage(None)

    def jump_then_fail() -> str:
        if outage.calls == 1:
            clock.advance(int(DB_RETRY_S * 1000))  # the engine's clock jumped past the window
        return outage()

    with pytest.raises(sa.exc.OperationalError):
        _steady(clock, jump_then_fail)
    assert clock.waits == [0.1]


def test_sysjobs_own_errors_are_answers_raised_at_once() -> None:
    clock = SteppingClock()

    def lost() -> None:
        raise LeaseLost("lease lost")

    with pytest.raises(LeaseLost):
        _steady(clock, lost)
    assert clock.waits == []


def test_the_system_clock_waits_on_the_machines_time() -> None:
    assert isinstance(SYSTEM_CLOCK, Sleeper)
    assert not isinstance(ManualClock(), Sleeper)  # a clock that cannot wait: time.sleep
