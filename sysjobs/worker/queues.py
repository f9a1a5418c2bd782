"""Per-pool queue limits: how many of a pool's slots each queue may use at once.

``mix`` and ``light`` may fill every slot; ``heavy`` jobs get at most half of them (so a burst
of imports cannot starve everything else), and ``system`` jobs one. An app's own queues
(manifest ``queues:``, ``sysjobs.jobs.queues``) may fill up to their ``maxConcurrency`` —
which the claim also holds across every pool on the database — and their
``minConcurrency`` slots are kept for them: while fewer of a queue's jobs run in the pool,
the other queues leave that many slots free. ``--queues`` overrides the limits: ``mix,light``
serves only those two; ``heavy=1,mix`` sets a limit explicitly; an app's queue is named the
same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sysjobs.jobs import QUEUES
from sysjobs.jobs.queues import QueueDef


def default_limits(concurrency: int, queues: Iterable[QueueDef] = ()) -> dict[str, int]:
    """The limits a pool of ``concurrency`` slots uses when not told otherwise: the
    built-ins', then each app queue's (its maximum, at most the pool's slots)."""
    limits = {
        "mix": concurrency,
        "light": concurrency,
        "heavy": max(1, concurrency // 2),
        "system": 1,
    }
    for queue in queues:
        if queue.name not in limits:
            top = queue.max_concurrency or concurrency
            limits[queue.name] = min(concurrency, top)
    return limits


def parse_queues(
    spec: str | None, concurrency: int, queues: Iterable[QueueDef] = ()
) -> dict[str, int]:
    """``"mix,heavy=1"`` -> {queue: limit}; a queue neither built in nor among ``queues``
    (the served apps') is rejected, and so is a limit that is not a whole number."""
    defs = list(queues)
    defaults = default_limits(concurrency, defs)
    if not spec:
        return defaults
    limits: dict[str, int] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, limit = part.partition("=")
        if name not in defaults:
            known = ", ".join(defaults)
            raise ValueError(f"unknown queue {name[:64]!r}; queues are {known}")
        if limit and not (limit.isascii() and limit.isdigit() and len(limit) <= 6):
            raise ValueError(f"queue {name}: limit {limit[:32]!r} is not a whole number "
                             "from 0 to 999999")
        limits[name] = min(concurrency, int(limit)) if limit else defaults[name]
    return limits


def reserved_slots(queues: Iterable[QueueDef]) -> dict[str, int]:
    """Slots kept per queue (its ``min_concurrency``), for the queues that keep any."""
    return {q.name: q.min_concurrency for q in queues if q.min_concurrency > 0}


def free_slots(
    limits: Mapping[str, int], busy: Mapping[str, int], concurrency: int,
    reserved: Mapping[str, int] | None = None,
) -> dict[str, int]:  # fmt: skip
    """How many more jobs each queue may take right now (never above the free total, and
    leaving free the slots other queues keep and do not use yet)."""
    total_free = concurrency - sum(busy.values())
    kept = {q: max(0, n - busy.get(q, 0)) for q, n in (reserved or {}).items() if q in limits}
    all_kept = sum(kept.values())
    return {
        q: max(0, min(limit - busy.get(q, 0), total_free - (all_kept - kept.get(q, 0))))
        for q, limit in limits.items()
    }


def merged_queues(per_app: Iterable[Iterable[QueueDef]]) -> list[QueueDef]:
    """The app queues of several apps as one pool serves them: a name two apps declare gets
    the larger maximum (None: none), the larger minimum and the shorter poll interval (each
    app's own maximum still holds in the claim)."""
    found: dict[str, QueueDef] = {}
    for queues in per_app:
        for queue in queues:
            if queue.name in QUEUES:
                continue
            seen = found.get(queue.name)
            found[queue.name] = queue if seen is None else _wider(seen, queue)
    return list(found.values())


def _wider(a: QueueDef, b: QueueDef) -> QueueDef:
    top = None if a.max_concurrency is None or b.max_concurrency is None else max(
        a.max_concurrency, b.max_concurrency)  # fmt: skip
    polls = [p for p in (a.poll_interval_s, b.poll_interval_s) if p is not None]
    low = max(a.min_concurrency, b.min_concurrency)
    return QueueDef(a.name, min(low, top) if top is not None else low, top,
                    min(polls) if polls else None)  # fmt: skip
