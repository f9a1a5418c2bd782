"""The in-process wake-up hub: hints by key, waited on with a condition variable.

Keys are ``job:<id>`` (that job changed), ``stop:<id>`` (a stop, cancel or kill asks that
running job to end) and ``work`` (a job became claimable); ``*`` means "anything may have
changed" (a LISTEN reconnect, an oversized notification). A hint only says "re-read now"; the
database row is always the truth. Only keys somebody is watching are tracked, so the hub stays
small however many jobs pass through.

A pool does not wait on the ``stop:`` keys of the jobs it runs (that set changes with every
job, and re-arming a watch for each would cost the hot path a wake-up): it *taps* the prefix,
and its sink is called with each such key's id as the hint goes by (:meth:`Hub.tap`); it taps
``*`` too (``sysjobs.worker.beats``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager


class Hub:
    """Generation counters per watched key, behind one condition variable."""

    def __init__(self, on_watch: Callable[[], None] | None = None) -> None:
        #: Called before each watch (the engine starts listening to other processes then).
        self._on_watch = on_watch
        self._cond = threading.Condition()
        self._watchers: Counter[str] = Counter()
        self._generation: dict[str, int] = {}
        self._everything = 0
        self._heard = 0
        #: ``(prefix, sink)`` pairs (:meth:`tap`); replaced, never changed in place.
        self._taps: tuple[tuple[str, Callable[[str], None]], ...] = ()

    def notify(self, keys: Sequence[str]) -> None:
        """Bump the watched ``keys`` (all of them for ``*``) and wake every waiter — only
        when one of them was watched: a busy worker's commits name dozens of jobs nobody
        waits for, and each woke the idle dispatcher for nothing."""
        with self._cond:
            bumped = False
            for key in keys:
                if key == "*":
                    self._everything += 1
                    bumped = True
                elif key in self._generation:
                    self._generation[key] += 1
                    bumped = True
            if bumped:
                self._cond.notify_all()
            taps = self._taps
        for prefix, sink in taps:  # (outside the lock: a sink may take locks of its own)
            for key in keys:
                if key.startswith(prefix):
                    sink(key[len(prefix) :])

    def tap(self, prefix: str, sink: Callable[[str], None]) -> Callable[[], None]:
        """Call ``sink`` with the rest of every hinted key that starts with ``prefix`` (the
        prefix ``*`` taps the "anything may have changed" hint itself, with ``""``), on the
        notifying thread; returns the untap. A sink must be quick and must not raise: it
        runs inside the commit's hand-off."""
        entry = (prefix, sink)
        with self._cond:
            self._taps = (*self._taps, entry)

        def untap() -> None:
            with self._cond:
                self._taps = tuple(t for t in self._taps if t is not entry)

        return untap

    def notify_heard(self, keys: Sequence[str]) -> None:
        """:meth:`notify` for keys heard from other processes (LISTEN, the WAL watch),
        counted in :attr:`heard`."""
        with self._cond:
            self._heard += 1
        self.notify(keys)

    @property
    def heard(self) -> int:
        """How many hints other processes' commits sent this process so far: a cache of
        something they may change is stale once this moves."""
        with self._cond:
            return self._heard

    @contextmanager
    def watch(self, keys: Iterable[str]) -> Iterator[Watch]:
        """Track ``keys`` for the duration of a wait loop."""
        if self._on_watch is not None:
            self._on_watch()
        names = tuple(dict.fromkeys(keys))
        with self._cond:
            for key in names:
                self._watchers[key] += 1
                self._generation.setdefault(key, 0)
        try:
            yield Watch(self, names)
        finally:
            with self._cond:
                for key in names:
                    self._watchers[key] -= 1
                    if self._watchers[key] <= 0:
                        del self._watchers[key]
                        del self._generation[key]

    def _sum(self, keys: tuple[str, ...]) -> int:
        return self._everything + sum(self._generation.get(k, 0) for k in keys)


class Watch:
    """One waiter's view: "has any of my keys been hinted since I last looked?"."""

    def __init__(self, hub: Hub, keys: tuple[str, ...]) -> None:
        self._hub = hub
        self._keys = keys
        with hub._cond:
            self._seen = hub._sum(keys)

    def mark(self) -> None:
        """Remember the current generation (call right before re-reading the database)."""
        with self._hub._cond:
            self._seen = self._hub._sum(self._keys)

    def wait(self, timeout: float) -> bool:
        """Block until a hint newer than the last ``mark`` or ``timeout``; True if hinted."""
        with self._hub._cond:
            return self._hub._cond.wait_for(
                lambda: self._hub._sum(self._keys) != self._seen, timeout=max(0.0, timeout)
            )
