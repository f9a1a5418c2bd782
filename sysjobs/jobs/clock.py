"""The engine's one clock: every time the engine stores or compares comes from it.

Injected through ``EngineSettings.clock`` so tests step time instead of sleeping on it, and
so a test can make it jump backwards (an NTP step, another host's clock) to show that a
job's timestamps stay in order anyway: the store takes each write's time inside its write
transaction and never lets it fall before the times the job already has.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast, runtime_checkable

from sysjobs.errors import SysError
from sysjobs.jobs import ids

T = TypeVar("T")


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


def waits(clock: Clock) -> bool:
    """Whether ``clock`` is a :class:`Sleeper`: decided by its class, once per class.

    ``isinstance`` against a runtime-checkable protocol walks the protocol's members each
    time (~10 µs): :func:`while_unanswered` asks it around every job's end-of-job write."""
    return _sleeper_class(type(clock))


@functools.cache
def _sleeper_class(kind: type) -> bool:
    return issubclass(kind, Sleeper)


def sleep(clock: Clock, seconds: float) -> None:
    """Wait ``seconds`` on ``clock``: a :class:`Sleeper` waits itself (a test's clock steps
    its time, so a retry loop timed by the clock runs at once); another clock sleeps on
    the machine's time, as its ``now_ms`` moves with it."""
    if waits(clock):
        cast(Sleeper, clock).sleep(seconds)
    else:
        time.sleep(seconds)


def while_unanswered(
    clock: Clock, call: Callable[[], T], *, within_s: float, warn: Callable[[], None]
) -> T:
    """``call()``, again while the database does not answer (a restart, a cut connection),
    with pauses of 0.1 s doubling up to 2 s, for up to ``within_s``; then its error.

    Errors of sysjobs' own (``LeaseLost``, ``Timeout``…) are answers, not outages: raised at
    once. The window and the pauses are on ``clock`` when it is a :class:`Sleeper` (the
    engine's injected clock: a test steps through an outage of minutes without sleeping);
    on another clock the pauses are the machine's sleeps, so the window is timed on the
    machine's monotonic clock too — a clock that neither waits nor moves with the machine
    would otherwise never reach the window's end. ``warn`` is called before each pause.
    """
    if waits(clock):
        now_s: Callable[[], float] = lambda: clock.now_ms() / 1000  # noqa: E731
        pause_for: Callable[[float], None] = cast(Sleeper, clock).sleep
    else:
        now_s, pause_for = time.monotonic, time.sleep
    deadline = now_s() + within_s
    pause = 0.1
    while True:
        try:
            return call()
        except SysError:
            raise
        except Exception:
            if now_s() + pause > deadline:
                raise
            warn()
            pause_for(pause)
            pause = min(pause * 2, 2.0)


#: The clock an engine uses unless its settings say otherwise.
SYSTEM_CLOCK = SystemClock()
