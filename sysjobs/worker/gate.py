"""Pausing a pool's claims without stopping it: what ``sysjobs demo`` and the sample runs
marked ``workers: false`` need (a job started meanwhile stays PENDING), at no cost of a
process to stop and start again.

Every claim — the dispatcher's, and the one a finishing transaction makes for the slot it
frees — passes the gate: it is refused while paused, else counted as in flight until it
returned. :meth:`ClaimGate.pause` closes the gate and waits for the claims in flight, so
once it returned no job is leased until :meth:`ClaimGate.resume` — a claim that began
before the pause and returns a job after it cannot happen.
"""

from __future__ import annotations

import threading


class ClaimGate:
    """Open (claims pass) or paused (none starts); counts the claims under way."""

    def __init__(self, *, paused: bool = False) -> None:
        self._cond = threading.Condition()
        self._paused = paused
        self._in_flight = 0

    @property
    def paused(self) -> bool:
        """Whether claims are refused now."""
        with self._cond:
            return self._paused

    def enter(self) -> bool:
        """Start a claim: False while paused (claim nothing), else True — then call
        :meth:`leave` once the claim returned."""
        with self._cond:
            if self._paused:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        """A claim that :meth:`enter` let through returned."""
        with self._cond:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._cond.notify_all()

    def pause(self) -> None:
        """Refuse new claims and wait for those under way (a second pause is harmless)."""
        with self._cond:
            self._paused = True
            self._cond.wait_for(lambda: self._in_flight == 0)

    def resume(self) -> bool:
        """Let claims pass again; whether the gate was paused."""
        with self._cond:
            was, self._paused = self._paused, False
            return was
