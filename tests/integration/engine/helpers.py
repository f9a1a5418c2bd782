"""Helpers shared by the engine tests: engines with test timings and a running pool."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from unittest.mock import patch

from sysjobs.jobs import Engine, EngineSettings
from sysjobs.jobs.hub import Watch
from sysjobs.worker import WorkerPool
from tests.integration.engine.jobtypes import register

#: Short timings so recovery and forcing happen within a test's patience.
FAST = EngineSettings(lease_s=1.0, stop_grace_s=0.5, low_priority_ageing_s=60.0)


@contextmanager
def open_engine(url: str, settings: EngineSettings = FAST) -> Iterator[Engine]:
    """An engine with the test job types registered."""
    engine = Engine.open(url, settings=settings)
    register(engine)
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def running_pool(engine: Engine, concurrency: int = 4, **options: object) -> Iterator[WorkerPool]:
    """An in-process pool, stopped (gracefully) at the end."""
    pool = WorkerPool(engine, concurrency=concurrency, **options)  # type: ignore[arg-type]
    pool.start()
    try:
        yield pool
    finally:
        pool.stop(grace_s=2.0)


@contextmanager
def once_waiting(keys: Iterable[str], action: Callable[[], object]) -> Iterator[None]:
    """Run ``action`` on another thread once a wait watching every one of ``keys`` has read
    the jobs and is about to block on the hub — the moment a change must wake it.

    Why not a timer: a fixed delay either wastes its length on every run or, on a loaded
    machine, fires before the script reached its wait, when the wait is not what is shown.
    """
    wanted = frozenset(keys)
    blocked, leaving = threading.Event(), threading.Event()
    plain_wait = Watch.wait

    def wait(watch: Watch, timeout: float) -> bool:
        if wanted <= frozenset(watch._keys):
            blocked.set()
        return plain_wait(watch, timeout)

    def act() -> None:
        blocked.wait()
        if not leaving.is_set():
            action()

    thread = threading.Thread(target=act)
    with patch.object(Watch, "wait", wait):
        thread.start()
        try:
            yield
        finally:
            leaving.set()
            blocked.set()
            thread.join()


class Beats:
    """Counts the heartbeats ``pool``'s own thread has completed, so a test reads what a
    heartbeat writes (the registry row, a job's progress) again after each one rather than
    in a busy loop (which took a core while the thread slept to its next tick)."""

    def __init__(self, pool: WorkerPool) -> None:
        self._cond = threading.Condition()
        self._count = 0
        plain = pool.beat

        def beat() -> None:
            try:
                plain()
            finally:
                with self._cond:
                    self._count += 1
                    self._cond.notify_all()

        pool.beat = beat  # type: ignore[method-assign]

    @property
    def count(self) -> int:
        with self._cond:
            return self._count

    def wait_past(self, seen: int, timeout_s: float) -> bool:
        """Wait until a heartbeat after the ``seen``-th one has completed."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count > seen, max(0.0, timeout_s))


class ManualClock:
    """A clock the test sets: it moves only when told, forwards or backwards."""

    def __init__(self, start_ms: int = 1_800_000_000_000) -> None:
        self._ms = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._ms

    def advance(self, delta_ms: int) -> None:
        """Step by ``delta_ms`` (negative: back, as an NTP step or another host's clock)."""
        with self._lock:
            self._ms += delta_ms


class SteppingClock(ManualClock):
    """A :class:`ManualClock` that also waits (a ``Sleeper``): each wait steps its time
    instead of sleeping, and is counted — a retry loop timed by it runs at once."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.advance(round(seconds * 1000))


class AheadClock:
    """The wall clock read ``ahead_ms`` later: an engine on it sees a lease, a deadline or a
    window as that much further on — time a test lets pass without waiting for it."""

    def __init__(self, ahead_ms: int) -> None:
        self.ahead_ms = ahead_ms

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.ahead_ms


class JitteryClock:
    """The wall clock, off by a different amount at each reading (-90 to +90 ms in a fixed
    cycle): consecutive readings go backwards as often as forwards, as the clocks of several
    hosts, or one stepped by NTP, would."""

    OFFSETS_MS = (0, 90, -90, 40, -60, 70, -30, 20, -80, 60)

    def __init__(self) -> None:
        self._offsets = itertools.cycle(self.OFFSETS_MS)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            offset = next(self._offsets)
        return time.time_ns() // 1_000_000 + offset
