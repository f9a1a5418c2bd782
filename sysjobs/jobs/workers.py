"""The workers registry, as the engine's callers see it: who runs jobs, and are they alive.

Like Sidekiq's process set and Oban's producers: each pool of job slots registers itself
when it starts (:class:`Registration`), refreshes its row with its lease heartbeat — the
same write transaction when it holds leases, so a busy pool pays no extra write, and one
write per lease period when idle — and deletes it on a clean stop. A worker process that
dies is shown ``gone`` as soon as its supervisor reaps it (:func:`mark_gone`); a pool that
died unseen (with its supervisor, its machine gone) stops refreshing: :func:`list_workers`
shows its row as ``gone`` once the last heartbeat is older than ``GONE_AFTER_LEASES`` of its
lease periods. Either row is pruned later (``sysjobs.store.workers``). Every time comes
from the engine's clock.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from sysjobs.jobs.models import to_datetime
from sysjobs.jobs.settings import EngineSettings
from sysjobs.store.database import Database
from sysjobs.store.rows import Row
from sysjobs.store.tree import TreeStore
from sysjobs.store.workers import (
    GONE_AFTER_LEASES,
    GONE_BUSY,
    PRUNED_AFTER_LEASES,
    WorkerBeat,
    WorkerStore,
)

__all__ = [
    "GONE_AFTER_LEASES", "PRUNED_AFTER_LEASES", "Registration", "Source", "WorkerInfo",
    "list_workers", "mark_gone", "prune_workers", "seen_by_app",
]  # fmt: skip

log = logging.getLogger(__name__)


class Source(Protocol):
    """What the registry is read and written through: an engine (or its parts) — its
    database and its settings (the clock, the app). Described, not imported: this module
    sits below the engine."""

    @property
    def database(self) -> Database: ...

    @property
    def settings(self) -> EngineSettings: ...


class WorkerInfo(BaseModel):
    """One pool of job slots as the registry last heard of it."""

    model_config = ConfigDict(frozen=True)

    #: The owner id its leases carry (``w<pid>-<hex>``).
    id: str
    host: str
    pid: int
    slots: int
    #: Jobs it ran at its last heartbeat, and their ids (at most the first 256).
    busy: int
    job_ids: list[str]
    #: {queue: slots it may use there}.
    queues: dict[str, int]
    #: The app keys whose jobs it runs.
    apps: list[str]
    lease_s: float
    started_at: datetime
    last_seen_at: datetime
    #: Milliseconds since its last heartbeat, against the engine's clock.
    last_seen_ago_ms: int
    #: ``alive``, or ``gone``: its supervisor reaped the dead process (:func:`mark_gone`),
    #: or no heartbeat for ``GONE_AFTER_LEASES`` lease periods.
    state: Literal["alive", "gone"]

    @classmethod
    def from_row(cls, row: Row, now_ms: int) -> WorkerInfo:
        """A registry row read at ``now_ms``."""
        ago = max(0, now_ms - row["last_seen_ms"])
        marked = row["busy"] == GONE_BUSY
        gone = marked or ago > GONE_AFTER_LEASES * row["lease_ms"]
        return cls(
            id=row["id"], host=row["host"], pid=row["pid"], slots=row["slots"],
            busy=0 if marked else row["busy"], job_ids=list(row["job_ids"]),
            queues=dict(row["queues"]),
            apps=list(row["apps"]), lease_s=row["lease_ms"] / 1000,
            started_at=to_datetime(row["started_ms"]),
            last_seen_at=to_datetime(row["last_seen_ms"]),
            last_seen_ago_ms=ago, state="gone" if gone else "alive",
        )  # fmt: skip


def list_workers(engine: Source, app: str | None = None) -> list[WorkerInfo]:
    """The registered workers that serve ``app`` (None: every worker), oldest start first."""
    clock = engine.settings.clock
    now = clock.now_ms()
    rows = WorkerStore(engine.database, clock.now_ms).rows()
    return [WorkerInfo.from_row(r, now) for r in rows if app is None or app in r["apps"]]


def seen_by_app(engine: Source, workers: Sequence[WorkerInfo], app: str) -> list[WorkerInfo]:
    """``workers`` (serving ``app``) as that app alone may see them — an app's own token: a
    pool serving other apps too shows ``app`` among its apps, its jobs of ``app`` among its
    current jobs and busy slots; the other apps' keys and running jobs are not its business.
    One read for the whole list (which of the jobs are ``app``'s)."""
    ids = sorted({job_id for w in workers for job_id in w.job_ids})
    store = TreeStore(engine.database, engine.settings.clock.now_ms)
    own = set(store.labels(ids, apps=(app,))) if ids else set()
    seen = []
    for worker in workers:
        if worker.apps == [app]:
            seen.append(worker)
            continue
        job_ids = [job_id for job_id in worker.job_ids if job_id in own]
        seen.append(worker.model_copy(update={"apps": [app], "job_ids": job_ids,
                                              "busy": len(job_ids)}))  # fmt: skip
    return seen


def mark_gone(engine: Source, worker_id: str) -> bool:
    """Show a worker process gone at once: its supervisor reaped it (a worker that dies with
    its supervisor is gone after ``GONE_AFTER_LEASES`` lease periods). A database that does
    not answer is logged, never raised: the registry informs people, and the supervisor has
    jobs to take back and a replacement to start."""
    try:
        return WorkerStore(engine.database, engine.settings.clock.now_ms).mark_gone(worker_id)
    except Exception:
        log.warning("sysjobs: marking worker %s gone in the registry failed", worker_id,
                    exc_info=True)  # fmt: skip
        return False


def prune_workers(engine: Source) -> int:
    """Delete the rows of workers gone for ``PRUNED_AFTER_LEASES`` lease periods."""
    return WorkerStore(engine.database, engine.settings.clock.now_ms).prune()


class Registration:
    """One pool's row in the registry: written at start, refreshed by its heartbeat, deleted
    at a clean stop. A database that does not answer is logged and tried again at the next
    heartbeat — the registry informs people; it must never stop a pool from working."""

    def __init__(
        self, engine: Source, owner: str, *, slots: int, queues: Mapping[str, int],
        apps: Sequence[str], lease_s: float,
    ) -> None:  # fmt: skip
        self.clock = engine.settings.clock
        self.store = WorkerStore(engine.database, self.clock.now_ms)
        self.beat = WorkerBeat(
            id=owner, host=socket.gethostname(), pid=os.getpid(), slots=slots,
            queues=dict(queues), apps=tuple(apps), lease_ms=int(lease_s * 1000),
            started_ms=self.clock.now_ms(),
        )  # fmt: skip
        #: Refresh at least this often (milliseconds of the engine's clock): with the lease
        #: heartbeat while busy (no write of its own), once a lease period while idle — on
        #: SQLite every commit wakes the other processes' idle pools, so an idle pool's own
        #: writes stay rare; a row is gone only after ``GONE_AFTER_LEASES`` periods.
        self.busy_every_ms = max(1, self.beat.lease_ms // 3)
        self.idle_every_ms = max(1, self.beat.lease_ms)
        self._written_ms: int | None = None
        self._written_jobs: frozenset[str] = frozenset()
        self._removed = False  # a late heartbeat must not write the row back

    def register(self) -> None:
        """Write the row (a failure is retried by the next :meth:`due` beat)."""
        try:
            started = self.store.register(self.beat)
        except Exception:
            log.warning("sysjobs: registering worker %s failed; retrying", self.beat.id,
                        exc_info=True)  # fmt: skip
            return
        self.beat = replace(self.beat, started_ms=started)
        self._written(self.beat, started)

    def due(self, job_ids: Collection[str]) -> WorkerBeat | None:
        """The row to write with this heartbeat: when the jobs it runs changed, or a third
        of a lease (busy) or a lease (idle) passed since the last write; else None."""
        if self._removed:
            return None
        now = self.clock.now_ms()
        jobs = frozenset(job_ids)
        every = self.busy_every_ms if jobs else self.idle_every_ms
        if (self._written_ms is not None and now - self._written_ms < every
                and jobs == self._written_jobs):  # fmt: skip
            return None
        return replace(self.beat, job_ids=tuple(sorted(jobs)))

    def written(self, beat: WorkerBeat) -> None:
        """Say that ``beat`` reached the database (with the lease heartbeat, or alone)."""
        self._written(beat, self.clock.now_ms())

    def refresh(self, beat: WorkerBeat) -> None:
        """Write ``beat`` alone (an idle pool: no lease heartbeat to ride on)."""
        self.store.refresh(beat)
        self.written(beat)

    def remove(self) -> None:
        """Delete the row (a clean stop); no heartbeat writes it again."""
        self._removed = True
        try:
            self.store.remove(self.beat.id)
        except Exception:
            log.warning("sysjobs: removing worker %s from the registry failed", self.beat.id,
                        exc_info=True)  # fmt: skip

    def _written(self, beat: WorkerBeat, at_ms: int) -> None:
        self._written_ms = at_ms
        self._written_jobs = frozenset(beat.job_ids)
