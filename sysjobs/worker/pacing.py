"""When an idle dispatcher claims: at once on a wake-up, otherwise once per safety poll.

An idle pool must cost nothing. Wake-ups come from the engine's hub: this process's commits
(the in-process condition), other processes' through PostgreSQL's LISTEN or SQLite's
write-ahead-log watch. Between wake-ups the pool claims only when the safety poll is due —
slow when another process's commits do wake it, the dialect's own pace when nothing can
(PostgreSQL without hints, an in-memory SQLite). The pace is read from the engine's
injected clock, so a test steps time instead of sleeping on it.
"""

from __future__ import annotations

from collections.abc import Callable

from sysjobs.jobs.clock import Clock
from sysjobs.jobs.values import bad

#: Seconds between an idle pool's claims when other processes' commits wake it anyway.
SAFETY_POLL_S = 5.0
#: The longest safety poll a pool accepts (a day): beyond it a lost wake-up is never repaired.
MAX_SAFETY_POLL_S = 86_400.0


def check_safety_poll(value: object) -> float:
    """``value`` as seconds between safety polls, else ``BadRequest`` naming the parameter."""
    allowed = f"a number of seconds > 0 and at most {MAX_SAFETY_POLL_S:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad("safety_poll_s", value, allowed)
    if not 0 < value <= MAX_SAFETY_POLL_S:  # (False for NaN; exact for huge ints)
        raise bad("safety_poll_s", value, allowed)
    return float(value)


class ClaimPacer:
    """Says whether a claim is due now, and how long to wait for a wake-up until one is."""

    def __init__(self, clock: Clock, interval: Callable[[int], float]) -> None:
        self._clock = clock
        #: Seconds to the next safety poll after ``idle_rounds`` claims that took nothing.
        self._interval = interval
        self._idle_rounds = 0
        self._last_ms = 0
        self._next_ms: int | None = None  # None: claim now (nothing claimed yet)

    def due(self, hinted: bool) -> bool:
        """A wake-up, the first claim, the safety poll's time has come — or the clock
        stepped back past the last claim (an NTP step must not silence the poll)."""
        if hinted or self._next_ms is None:
            return True
        now = self._clock.now_ms()
        return now >= self._next_ms or now < self._last_ms

    def claimed(self, took: bool) -> None:
        """A claim ran (``took``: it leased something); the next safety poll is due later."""
        self._idle_rounds = 0 if took else self._idle_rounds + 1
        self._last_ms = self._clock.now_ms()
        self._next_ms = self._last_ms + self._step_ms()

    def wait_s(self) -> float:
        """How long to wait for a wake-up before the safety poll is due (0 to one step)."""
        if self._next_ms is None:
            return 0.0
        left_ms = min(self._next_ms - self._clock.now_ms(), self._step_ms())
        return max(0.0, left_ms / 1000)

    def _step_ms(self) -> int:
        return max(1, int(self._interval(self._idle_rounds) * 1000))
