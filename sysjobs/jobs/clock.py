"""The engine's one clock: every time the engine stores or compares comes from it.

Injected through ``EngineSettings.clock`` so tests step time instead of sleeping on it, and
so a test can make it jump backwards (an NTP step, another host's clock) to show that a
job's timestamps stay in order anyway: the store takes each write's time inside its write
transaction and never lets it fall before the times the job already has.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sysjobs.jobs import ids


class Clock(Protocol):
    """Wall-clock milliseconds since the epoch (the unit of every stored time)."""

    def now_ms(self) -> int:
        """The current time, in milliseconds since the epoch."""
        ...


@runtime_checkable
class Sleeper(Protocol):
    """A clock that also waits: a test's clock steps its own time instead of sleeping."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass on this clock."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """The machine's wall clock (the default)."""

    def now_ms(self) -> int:
        """``time.time_ns()`` in milliseconds."""
        return ids.now_ms()

    def sleep(self, seconds: float) -> None:
        """``time.sleep``."""
        time.sleep(seconds)


def sleep(clock: Clock, seconds: float) -> None:
    """Wait ``seconds`` on ``clock``: a :class:`Sleeper` waits itself (a test's clock steps
    its time, so a retry loop timed by the clock runs at once); another clock sleeps on
    the machine's time, as its ``now_ms`` moves with it."""
    if isinstance(clock, Sleeper):
        clock.sleep(seconds)
    else:
        time.sleep(seconds)


#: The clock an engine uses unless its settings say otherwise.
SYSTEM_CLOCK = SystemClock()
