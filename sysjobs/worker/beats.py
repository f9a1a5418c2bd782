"""When a pool's heartbeat runs: every ``beat_s`` seconds, and at once when a job it runs is
asked to end.

The heartbeat renews the pool's leases and relays stop, cancel and kill requests to the jobs
it runs (``WorkerPool.beat``). On its tick alone a request waited up to a second to reach its
job. A stop, cancel, kill or force-stop commits ``STOPPING``/``CANCELING`` and hints
``stop:<id>`` (``sysjobs.store.rows.landing_hints``); the pool taps those hints on its
engines' hubs (``sysjobs.jobs.hub.Hub.tap``). Made in this process, or heard from another
over PostgreSQL's LISTEN, a hint for a job the pool runs brings the next beat forward, so the
request reaches the job within milliseconds. SQLite's write-ahead-log watch names no keys:
another process's commit there hints ``*``, "anything may have changed". On that hint the pool
first *checks* — one read of its jobs' statuses, which on SQLite takes no lock — and beats (a
write) only when one of them was asked to end: a beat on every ``*`` would answer each commit
of the fleet with one of its own.

A request can come between the claim that made its job RUNNING and the moment the pool
holds that job: its hint is then kept (the last :data:`KEPT_HINTS` of them), and the pool's
adoption of the job brings the beat forward instead.

Early beats are at least :data:`EARLY_BEAT_GAP_S` apart, checks :data:`CHECK_GAP_S`: a script
that asks its pool's jobs to stop in a loop cannot make the pool write more often than that,
nor a busy SQLite fleet's commits make it read more often (a busy process's own commits hint
``*`` too, and a check is a read of 0.4 to 0.7 ms of CPU).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Collection, Iterable

from sysjobs.jobs.hub import Hub
from sysjobs.jobs.values import bad

#: The longest default interval between heartbeats (seconds); shorter with a short lease.
MAX_DEFAULT_BEAT_S = 1.0
#: The shortest pause between two heartbeats brought forward by stop hints (seconds).
EARLY_BEAT_GAP_S = 0.05
#: The shortest pause between two checks of the held jobs' statuses on ``*`` hints (seconds):
#: how late a stop another process makes on SQLite can reach its job, at most.
CHECK_GAP_S = 0.25
#: Stop hints kept for jobs the pool does not hold (yet): most name other pools' jobs.
KEPT_HINTS = 64
#: What :meth:`BeatTimer.next_beat` says is due: the regular beat, a beat a stop hint brought
#: forward, or a check of the jobs' statuses first (a hint that named nothing).
TICK, STOP, CHECK = "tick", "stop", "check"


def beat_interval(beat_s: object, lease_s: float) -> float:
    """Seconds between heartbeats: ``beat_s`` (None: a third of the lease, at most
    :data:`MAX_DEFAULT_BEAT_S`), else ``BadRequest`` naming the parameter. A beat must come
    well within the lease it renews, so at most half of it."""
    if beat_s is None:
        return min(lease_s / 3, MAX_DEFAULT_BEAT_S)
    allowed = f"a number of seconds > 0 and at most half the lease ({lease_s / 2:g})"
    if isinstance(beat_s, bool) or not isinstance(beat_s, int | float):
        raise bad("beat_s", beat_s, allowed)
    if not 0 < beat_s <= lease_s / 2:  # (False for NaN)
        raise bad("beat_s", beat_s, allowed)
    return float(beat_s)


class BeatTimer:
    """Paces one heartbeat thread: :meth:`next_beat` returns when a beat is due."""

    def __init__(self, interval_s: float, running: Collection[str]) -> None:
        self.interval_s = interval_s
        #: The ids of the jobs the pool runs (its ``running`` map: read without its lock,
        #: a single membership test).
        self._running = running
        self._wake = threading.Event()
        self._stop = False  # a stop hint named a job the pool holds
        self._check = False  # a hint named nothing (``*``) while the pool held jobs
        self._last = TICK
        #: When the next regular beat is due (``time.monotonic()``): hints never push it
        #: back, or a busy SQLite process's own commits (each one a ``*``) would keep its
        #: leases from being renewed.
        self._due = time.monotonic() + interval_s
        self._checked_at = -math.inf  # when the last check was due
        #: Hinted ids the pool did not hold when their hint came, oldest first.
        self._kept: dict[str, None] = {}
        #: Orders a hint's look at ``running`` against the adoption of that job.
        self._lock = threading.Lock()
        self._untaps: list[Callable[[], None]] = []
        #: Heartbeats a stop hint brought forward so far.
        self.early_beats = 0

    def tap(self, hubs: Iterable[Hub]) -> None:
        """Listen for ``stop:<id>`` and ``*`` hints on ``hubs`` (each hub once)."""
        for hub in {id(h): h for h in hubs}.values():
            self._untaps.append(hub.tap("stop:", self._hinted))
            self._untaps.append(hub.tap("*", self._anything))

    def _hinted(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._running:
                self._stop = True
                self._wake.set()
                return
            self._kept[job_id] = None  # another pool's job, gone, or not adopted yet
            if len(self._kept) > KEPT_HINTS:
                del self._kept[next(iter(self._kept))]

    def adopted(self, job_id: str) -> None:
        """The pool holds ``job_id`` now (it is in ``running``): beat at once if a stop hint
        came for it before."""
        with self._lock:
            if self._kept and job_id in self._kept:
                del self._kept[job_id]
                self._stop = True
                self._wake.set()

    def _anything(self, _rest: str) -> None:
        if self._running:  # (nothing held: nothing to check)
            with self._lock:
                self._check = True
            self._wake.set()

    def next_beat(self, closed: threading.Event) -> str | None:
        """Block until the next beat is due and say why: :data:`TICK` (the interval passed),
        :data:`STOP` (a job this pool runs was asked to end) or :data:`CHECK` (a hint that
        named nothing: read the jobs' statuses, beat if one was asked to end); None once
        ``closed`` is set."""
        if self._last != TICK and closed.wait(EARLY_BEAT_GAP_S):
            return None
        check = False
        while True:
            until = min(self._due, self._checked_at + CHECK_GAP_S) if check else self._due
            self._wake.wait(max(0.0, until - time.monotonic()))
            self._wake.clear()
            if closed.is_set():
                return None
            with self._lock:
                stop, check = self._stop, check or self._check
                self._stop = self._check = False
            now = time.monotonic()
            if now >= self._due or stop:  # a beat, which renews every lease
                self._last = STOP if now < self._due else TICK
                self._due = now + self.interval_s
                self.early_beats += self._last == STOP
                return self._last
            if check and now >= self._checked_at + CHECK_GAP_S:
                self._checked_at = now
                self._last = CHECK
                return CHECK
            # (a check asked for too soon after the last one: it waits for its turn)

    def close(self) -> None:
        """Stop listening and wake the waiting thread (which then sees its ``closed``)."""
        for untap in self._untaps:
            untap()
        self._untaps.clear()
        self._wake.set()
