"""Queue statistics as a frozen value: depth, oldest pending age, running, throughput, losses.

The CLI (``sysjobs jobs stats``) and the dashboard show the same object, so the figures
mean the same thing in both places. Ages and rates are computed here, against one clock
reading, from the raw counts of ``sysjobs.store.stats``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sysjobs.jobs.engine import Engine
from sysjobs.jobs.status import ALL_STATUSES
from sysjobs.store.stats import StatsStore

#: The throughput window when none is given: the last hour.
DEFAULT_WINDOW_S = 3600.0


class QueueStats(BaseModel):
    """One queue: how deep, how stale, how busy."""

    model_config = ConfigDict(frozen=True)

    queue: str
    #: Jobs waiting for a worker.
    pending: int
    #: Milliseconds the oldest pending job has waited; None when nothing waits.
    oldest_pending_age_ms: int | None
    #: Jobs held by a worker's lease (RUNNING, STOPPING, CANCELING).
    running: int


class EngineStats(BaseModel):
    """The whole engine at one instant."""

    model_config = ConfigDict(frozen=True)

    queues: list[QueueStats]
    #: Every status with its job count (0 included, so tables keep their shape).
    by_status: dict[str, int]
    pending: int
    running: int
    oldest_pending_age_ms: int | None
    #: The throughput window, in seconds.
    window_s: float
    #: Jobs FINISHED within the window, and the same as a per-minute rate.
    finished_in_window: int
    throughput_per_min: float
    #: Leases recovered by the reaper within the window, and over all stored jobs.
    lost_leases_in_window: int
    lost_leases_total: int


def engine_stats(engine: Engine, window_s: float = DEFAULT_WINDOW_S) -> EngineStats:
    """Read the figures once and derive ages and rates against the same ``now``."""
    now = engine.clock.now_ms()
    rows = StatsStore(engine.database).snapshot(now - int(window_s * 1000))
    queues = [
        QueueStats(
            queue=q.queue, pending=q.pending, running=q.running,
            oldest_pending_age_ms=None if q.oldest_pending_ms is None
            else max(0, now - q.oldest_pending_ms),
        )
        for q in rows.queues
    ]  # fmt: skip
    ages = [q.oldest_pending_age_ms for q in queues if q.oldest_pending_age_ms is not None]
    return EngineStats(
        queues=queues,
        by_status={s: rows.by_status.get(s, 0) for s in ALL_STATUSES},
        pending=sum(q.pending for q in queues),
        running=sum(q.running for q in queues),
        oldest_pending_age_ms=max(ages) if ages else None,
        window_s=window_s,
        finished_in_window=rows.finished_since,
        throughput_per_min=round(rows.finished_since / (window_s / 60), 3) if window_s else 0.0,
        lost_leases_in_window=rows.lost_since,
        lost_leases_total=rows.lost_total,
    )
