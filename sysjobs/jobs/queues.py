"""Queues: the built-in four and an app's own, with their concurrency limits.

Every job runs in a queue. The built-in queues are ``mix`` (the default), ``light``,
``heavy`` and ``system``; an app may declare its own in its manifest (``queues:``,
docs/manifest.md) — a name, at least and at most how many of its jobs run at once, and how
often an idle worker looks for its jobs. An app's actions and listeners name the queue their
jobs run in, and ``sys.jobs.executeInJob`` takes any of the app's queues.

Two kinds of limit, both held by the claim across every worker on the database (the
lock that orders the claims meeting a limit, ``sysjobs.store.backend.ClaimSpec``):

* a queue's ``max_concurrency``: the most of the app's jobs of that queue running at once;
* the app's cap (manifest ``jobs: maxConcurrency``): the most of its jobs running at once,
  whatever their queue — one app cannot fill a fleet it shares with others.

``min_concurrency`` is per pool: the slots a pool keeps free for the queue while fewer of its
jobs run there (``sysjobs.worker.queues``). ``poll_interval_s`` bounds how long a pool
serving the queue waits, with no wake-up, before it looks again (a slot freed by another
process's job of a limited queue wakes no one else).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sysjobs.jobs.values import bad

#: The queues every app has, the default first.
BUILTIN_QUEUES: tuple[str, ...] = ("mix", "light", "heavy", "system")
#: The name ``sys.jobs.executeInJob`` takes for the app's default queue.
DEFAULT_QUEUE_ALIAS = "default"
#: An app queue's name: a letter, then letters, digits, ``_`` or ``-``; 32 at most (the
#: ``jobs.queue`` column's width).
QUEUE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
#: The largest concurrency a queue or an app may declare.
MAX_CONCURRENCY = 100_000
#: Poll intervals an app queue may declare, in seconds.
POLL_INTERVAL_RANGE_S = (0.01, 3600.0)
_NAME_RULE = ("a letter, then up to 31 letters, digits, '_' or '-'; not a built-in queue "
              f"({', '.join(BUILTIN_QUEUES)}) nor '{DEFAULT_QUEUE_ALIAS}'")  # fmt: skip


@dataclass(frozen=True)
class QueueDef:
    """One queue: its name and limits (None: no limit of that kind)."""

    name: str
    min_concurrency: int = 0
    max_concurrency: int | None = None
    poll_interval_s: float | None = None

    def __post_init__(self) -> None:
        if self.name not in BUILTIN_QUEUES:
            check_queue_name(self.name)
        top = self.max_concurrency if self.max_concurrency is not None else MAX_CONCURRENCY
        check_concurrency(self.max_concurrency, "maxConcurrency", minimum=1)
        check_concurrency(self.min_concurrency, "minConcurrency", minimum=0, maximum=top)
        low, high = POLL_INTERVAL_RANGE_S
        poll = self.poll_interval_s
        if poll is not None and not (
            isinstance(poll, int | float) and not isinstance(poll, bool)
            and math.isfinite(poll) and low <= poll <= high
        ):  # fmt: skip
            raise bad("pollInterval", poll, f"seconds from {low} to {high:g}")


def check_queue_name(value: object) -> str:
    """An app queue's name (:data:`QUEUE_NAME`, not a built-in's); ``BadRequest`` naming
    ``queue`` otherwise."""
    if (
        not isinstance(value, str) or QUEUE_NAME.fullmatch(value) is None
        or value in BUILTIN_QUEUES or value == DEFAULT_QUEUE_ALIAS
    ):  # fmt: skip
        raise bad("queue", value, _NAME_RULE)
    return value


def check_concurrency(
    value: object, parameter: str, *, minimum: int, maximum: int = MAX_CONCURRENCY
) -> int | None:
    """None, or a whole number from ``minimum`` to ``maximum``; ``BadRequest`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise bad(parameter, value, f"whole numbers from {minimum} to {maximum}")
    return value


BUILTIN_DEFS: tuple[QueueDef, ...] = tuple(QueueDef(name) for name in BUILTIN_QUEUES)
