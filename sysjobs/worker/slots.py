"""The pool's slot threads: started with the pool, each waits for the job handed to it.

A thread used to be started for each chain of jobs (a slot's job, then each job leased as
it finished) and to end with it. Starting a thread maps its stack — 8 MiB that count in the
process's data size — and in a process running scripts that size is what the recycling
rule on data growth reads around every run (``sysjobs.runtime.sandbox``): every run open
while a thread started counted its stack, so a worker whose slots filled at once (32
threads while the first runs were open) sent most of its fresh V8 contexts away as "grown
by more than 64 MiB", and built each again (~25 ms of CPU). Threads kept for the pool's
life map their stacks once, when the pool starts, before any run: the rule reads what it
read before, minus stacks that were never a script's.

A thread whose chain ended parks until the dispatcher hands it the next job; when none is
parked (every slot busy, or a thread still inside a forced job's abandoned handler), a new
thread is started as before. The last parked thread is handed work first (its stack and
caches are warm). :meth:`SlotThreads.close` ends the parked threads, and each busy one
when its chain ends.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Parked(Generic[T]):
    """A parked thread's mailbox: ``handed`` is released once ``item`` is set (None: end)."""

    __slots__ = ("handed", "item", "thread")

    def __init__(self) -> None:
        self.handed = threading.Lock()
        self.handed.acquire()
        self.item: T | None = None
        #: The thread that waits on it (set before the box is handed anything).
        self.thread: threading.Thread | None = None


class SlotThreads(Generic[T]):
    """Threads that each run ``run(item)`` for the items handed to them, one at a time."""

    def __init__(self, run: Callable[[T], None], name: str) -> None:
        self._run = run
        self._name = name
        self._lock = threading.Lock()
        self._parking = threading.Condition(self._lock)  # notified as a thread parks
        self._parked: list[_Parked[T]] = []
        self._closed = False
        self._ending: list[threading.Thread] = []  # woken by close(), for join()
        self._numbers = itertools.count(1)

    def start(self, count: int) -> None:
        """Start ``count`` threads, parked (ready to be handed work) when this returns."""
        for _ in range(count):
            box: _Parked[T] = _Parked()
            box.thread = self._start(box, None)
            with self._lock:
                if self._closed:
                    box.handed.release()  # (item None: the thread ends)
                    return
                self._parked.append(box)

    def hand(self, item: T) -> None:
        """Run ``item`` in a parked thread, or in a new one when none is parked."""
        with self._lock:
            parked = self._parked.pop() if self._parked else None
        if parked is None:
            self._start(None, item)
            return
        parked.item = item
        parked.handed.release()

    def parked(self) -> int:
        """How many threads wait for work now."""
        with self._lock:
            return len(self._parked)

    def wait_parked(self, count: int, timeout_s: float) -> bool:
        """Wait until at least ``count`` threads are parked; False when ``timeout_s`` passed
        first."""
        with self._parking:
            return self._parking.wait_for(lambda: len(self._parked) >= count, timeout_s)

    def close(self) -> None:
        """Parked threads end now, busy ones once their work is done; items handed later
        each get a thread of their own, which ends with them."""
        with self._lock:
            self._closed = True
            parked, self._parked = self._parked, []
            self._ending += [box.thread for box in parked if box.thread is not None]
        for box in parked:
            box.handed.release()  # (item None: the thread ends)

    def join(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the threads :meth:`close` woke to have ended (a
        process left with one thread may fork its script children)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            ending, self._ending = self._ending, []
        for thread in ending:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    def _start(self, box: _Parked[T] | None, item: T | None) -> threading.Thread:
        thread = threading.Thread(
            target=self._loop, args=(box, item), name=f"{self._name}-{next(self._numbers)}",
            daemon=True,
        )  # fmt: skip
        thread.start()
        return thread

    def _loop(self, box: _Parked[T] | None, item: T | None) -> None:
        while True:
            if box is not None:
                box.handed.acquire()
                item = box.item
            if item is None:
                return
            self._run(item)
            box = self._park()
            if box is None:
                return

    def _park(self) -> _Parked[T] | None:
        """This thread's mailbox, parked; None once closed (the thread ends)."""
        box: _Parked[T] = _Parked()
        box.thread = threading.current_thread()
        with self._lock:
            if self._closed:
                return None
            self._parked.append(box)
            self._parking.notify_all()
        return box
