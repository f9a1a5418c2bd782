"""Per-pool queue limits: how many of a pool's slots each queue may use at once.

``mix`` and ``light`` may fill every slot; ``heavy`` jobs get at most half of them (so a burst
of imports cannot starve everything else), and ``system`` jobs one. ``--queues`` overrides:
``mix,light`` serves only those two; ``heavy=1,mix`` sets a limit explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping

from sysjobs.jobs import QUEUES


def default_limits(concurrency: int) -> dict[str, int]:
    """The limits a pool of ``concurrency`` slots uses when not told otherwise."""
    return {
        "mix": concurrency,
        "light": concurrency,
        "heavy": max(1, concurrency // 2),
        "system": 1,
    }


def parse_queues(spec: str | None, concurrency: int) -> dict[str, int]:
    """``"mix,heavy=1"`` -> {queue: limit}; unknown queues are rejected."""
    defaults = default_limits(concurrency)
    if not spec:
        return defaults
    limits: dict[str, int] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, limit = part.partition("=")
        if name not in QUEUES:
            raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUES)}")
        limits[name] = min(concurrency, int(limit)) if limit else defaults[name]
    return limits


def free_slots(
    limits: Mapping[str, int], busy: Mapping[str, int], concurrency: int
) -> dict[str, int]:
    """How many more jobs each queue may take right now (never above the free total)."""
    total_free = concurrency - sum(busy.values())
    return {q: max(0, min(limit - busy.get(q, 0), total_free)) for q, limit in limits.items()}
