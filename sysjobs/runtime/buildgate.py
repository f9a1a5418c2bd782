"""Keeps the building of contexts out of the runs' data-growth windows.

A run's context is not reused once the process's data size grew by more than
``max_grown_bytes`` over its runs (see ``sandbox.py``): the size is read before and after
each run, and everything that happened in between counts — the run's own ArrayBuffers,
and whatever other threads did meanwhile. Building a context adds ~11 MiB to that size
(its isolate thread's stack and V8's heap), so while a worker's slots first fill, every
run open during the builds of the others counted them: a context that overlapped ~6
builds was discarded, and its replacement was one more build (a fresh context costs
~25 ms of CPU with its JIT warm-up).

The gate moves builds in time; it changes nothing in what is counted. A build waits until
no run window is open (new windows wait while a build waits or runs), so its growth falls
in no window. Neither waits for long: a build that finds windows still open after
:data:`BUILD_WAIT_S` (a long script) goes ahead while they are open, and a window that
waited :data:`WINDOW_WAIT_S` opens anyway — then the build's growth is counted by the
windows it overlaps, exactly as without the gate. A build started by a thread that has a
window open (a recycled context failed its proof in the middle of a run) never waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

#: How long a build waits for the open run windows to close before it goes ahead anyway.
BUILD_WAIT_S = 0.1
#: How long a run window waits for a pending or running build before it opens anyway.
WINDOW_WAIT_S = 0.25


class BuildGate:
    """Run windows and context builds of one sandbox, kept apart (see the module)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._windows = 0  # run windows open
        self._pending = 0  # builds waiting for the open windows to close
        self._clean = 0  # builds running while no window is open
        self._mine = threading.local()  # how many windows this thread has open
        self._window = _Window(self)
        #: Builds so far that no run window overlapped, and builds that went ahead while
        #: windows were open (their growth counted by those runs).
        self.counts = {"clean": 0, "overlapped": 0}

    def window(self) -> AbstractContextManager[None]:
        """A run's data-growth window (the meter read before and after it).

        Every run opens one, from every slot's thread at once: a context manager made
        once (no generator a run), entered with the lock alone while no build waits or
        runs, and closing wakes only a build waiting for the last window to close."""
        return self._window

    def _wait_for_builds(self) -> None:
        """(Holding the lock.) Wait while a build waits or runs, at most WINDOW_WAIT_S."""
        deadline = time.monotonic() + WINDOW_WAIT_S
        while self._pending or self._clean:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._cond.wait(left)

    @contextmanager
    def building(self) -> Iterator[None]:
        """A context is being built: outside every run window, unless that would wait
        longer than :data:`BUILD_WAIT_S`."""
        if getattr(self._mine, "open", 0):
            with self._cond:
                self.counts["overlapped"] += 1
            yield  # this thread's own window is open: the build is counted in it
            return
        clean = self._drain()
        try:
            yield
        finally:
            if clean:
                with self._cond:
                    self._clean -= 1
                    self._cond.notify_all()

    def _drain(self) -> bool:
        """Wait for the open windows to close; True when none is open (the build is then
        clean, and new windows wait for it)."""
        cond = self._cond
        with cond:
            self._pending += 1
            deadline = time.monotonic() + BUILD_WAIT_S
            while self._windows:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                cond.wait(left)
            self._pending -= 1
            clean = self._windows == 0
            self.counts["clean" if clean else "overlapped"] += 1
            if clean:
                self._clean += 1
            cond.notify_all()  # windows waiting on this build's wait may re-check
            return clean


class _Window(AbstractContextManager[None]):
    """:meth:`BuildGate.window`'s context manager (one per gate; the count of windows a
    thread has open is the gate's thread-local)."""

    __slots__ = ("_gate",)

    def __init__(self, gate: BuildGate) -> None:
        self._gate = gate

    def __enter__(self) -> None:
        gate = self._gate
        with gate._lock:
            if gate._pending or gate._clean:
                gate._wait_for_builds()
            gate._windows += 1
        mine = gate._mine
        mine.open = getattr(mine, "open", 0) + 1

    def __exit__(self, *exc: object) -> None:
        gate = self._gate
        gate._mine.open -= 1
        with gate._lock:
            gate._windows -= 1
            if gate._windows == 0 and gate._pending:  # only builds wait for no window
                gate._cond.notify_all()
