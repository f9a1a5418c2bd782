"""Queue statistics as a frozen value: depth, oldest pending age, running, throughput, losses.

The CLI (``sysjobs jobs stats``) and the dashboard show the same object, so the figures
mean the same thing in both places. Ages and rates are computed here, against one clock
reading, from the raw counts of ``sysjobs.store.stats``.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict

from sysjobs.jobs.clock import Clock
from sysjobs.jobs.cursor import Cursor
from sysjobs.jobs.models import Job
from sysjobs.jobs.status import ALL_STATUSES
from sysjobs.store.database import Database
from sysjobs.store.rows import Apps
from sysjobs.store.stats import MonitorStore, StatsStore


class Source(Protocol):
    """What the figures are read from: an engine (or its parts) — its database and clock.
    Described, not imported: this module sits below the engine."""

    @property
    def database(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def apps(self) -> Apps:
        """The apps whose jobs count (None: every app's, an operator's view)."""
        ...

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


def engine_stats(engine: Source, window_s: float = DEFAULT_WINDOW_S) -> EngineStats:
    """Read the figures once and derive ages and rates against the same ``now``."""
    now = engine.clock.now_ms()
    rows = StatsStore(engine.database).snapshot(now - int(window_s * 1000), apps=engine.apps)
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


# --- Monitoring: /metrics, /health, the dashboard's charts and label search -----------------


class MonitorStats(BaseModel):
    """What a metrics scrape shows: counts by (status, queue, type), jobs ever claimed per
    queue, run times and queue waits (seconds) of the jobs ended within the window."""

    model_config = ConfigDict(frozen=True)

    counts: list[tuple[str, str, str, int]]
    claimed: dict[str, int]
    run_s: list[float]
    wait_s: list[float]
    window_s: float
    lost_leases_in_window: int
    lost_leases_total: int


class Series(BaseModel):
    """Per bucket of ``step_s`` (``at_ms`` is each bucket's end): jobs enqueued, jobs
    finished, and the queue depth at the bucket's end, rebuilt from creation and start
    times (a job queued again by a retry or a resume counts at its last start only)."""

    model_config = ConfigDict(frozen=True)

    step_s: float
    at_ms: list[int]
    enqueued: list[int]
    finished: list[int]
    depth: list[int]


def monitor_stats(engine: Source, window_s: float = DEFAULT_WINDOW_S) -> MonitorStats:
    """The figures of one scrape, against one clock reading."""
    store = MonitorStore(engine.database, apps=engine.apps)
    rows = store.metrics(engine.clock.now_ms() - int(window_s * 1000))
    return MonitorStats(
        counts=rows.counts, claimed=rows.claimed,
        run_s=[(end - start) / 1000 for _created, start, end in rows.ended],
        wait_s=[max(0, start - created) / 1000 for created, start, _end in rows.ended],
        window_s=window_s,
        lost_leases_in_window=rows.lost_since, lost_leases_total=rows.lost_total,
    )  # fmt: skip


def series(engine: Source, window_s: float, step_s: float) -> Series:
    """Throughput and queue depth over the window, bucket by bucket."""
    now, step = engine.clock.now_ms(), max(1, int(step_s * 1000))
    buckets = max(1, -(-int(window_s * 1000) // step))
    since = now - buckets * step
    rows = MonitorStore(engine.database, apps=engine.apps).series(since, step)
    depth, depths = rows.pending_now, []
    for b in reversed(range(buckets)):
        depths.append(max(0, depth))
        left = rows.started.get(b, 0) + rows.dropped.get(b, 0)
        depth += left - rows.created.get(b, 0)
    return Series(
        step_s=step / 1000,
        at_ms=[since + (b + 1) * step for b in range(buckets)],
        enqueued=[rows.created.get(b, 0) for b in range(buckets)],
        finished=[rows.finished.get(b, 0) for b in range(buckets)],
        depth=depths[::-1],
    )


def labelled(engine: Source, text: str, size: int,
             after: tuple[int, str] | None = None) -> Cursor[Job]:  # fmt: skip
    """Jobs whose label contains ``text`` (any case), newest first, keyset paged."""
    store = MonitorStore(engine.database, apps=engine.apps)
    return Cursor(
        lambda after, limit: store.labelled(text, after, limit),
        lambda row: (row["created_ms"], row["id"]),
        Job.from_row,
        lambda: store.labelled_count(text),
        size,
        after,
    )
