"""Read first, then wait on a hint, with a deadline — written once.

``wait_job`` (``sys.jobs.waitForJob``) and the worker's idle loop both use :func:`wait_until`;
the only thing that differs between dialects is where hints come from (the hub is fed by
this process's commits and, on PostgreSQL, by LISTEN) and how fast to re-read without one
(the dialect's poll pace: quick backoff on SQLite, a slow safety net on PostgreSQL).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from sysjobs.jobs.hub import Hub

T = TypeVar("T")


def wait_until(
    read: Callable[[], T | None],
    *,
    hub: Hub,
    keys: Iterable[str],
    timeout_s: float,
    poll: Callable[[int], float],
    stop: Callable[[], bool] = lambda: False,
) -> T | None:
    """Return ``read()``'s first non-None value, or None when the deadline passes.

    The hub generation is marked *before* each read, so a change committed between the read
    and the wait still wakes us. Without hints, re-reads follow ``poll(idle_rounds)``; a hint
    resets the pace. ``stop()`` lets a shutting-down worker leave early.
    """
    deadline = time.monotonic() + max(0.0, timeout_s)
    idle_rounds = 0
    with hub.watch(keys) as watch:
        while True:
            watch.mark()
            value = read()
            if value is not None:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop():
                return None
            hinted = watch.wait(min(remaining, poll(idle_rounds)))
            idle_rounds = 0 if hinted else idle_rounds + 1
