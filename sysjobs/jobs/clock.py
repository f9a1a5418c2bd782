"""The engine's one clock: every time the engine stores or compares comes from it.

Injected through ``EngineSettings.clock`` so tests step time instead of sleeping on it, and
so a test can make it jump backwards (an NTP step, another host's clock) to show that a
job's timestamps stay in order anyway: the store takes each write's time inside its write
transaction and never lets it fall before the times the job already has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sysjobs.jobs import ids


class Clock(Protocol):
    """Wall-clock milliseconds since the epoch (the unit of every stored time)."""

    def now_ms(self) -> int:
        """The current time, in milliseconds since the epoch."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """The machine's wall clock (the default)."""

    def now_ms(self) -> int:
        """``time.time_ns()`` in milliseconds."""
        return ids.now_ms()


#: The clock an engine uses unless its settings say otherwise.
SYSTEM_CLOCK = SystemClock()
