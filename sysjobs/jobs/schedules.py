"""Scheduled jobs: cron schedules that start a job per tick, once, whoever ticks.

The app hands its engine the schedules of its manifest (:meth:`Scheduler.define`, at
``App.open``); the rows in ``schedules`` follow (new ones get their first tick, changed
ones a fresh count, ones gone from the manifest turn inert). Every worker pool serving the
app calls :meth:`Scheduler.tick` from its dispatcher, on the engine's clock: a tick found
due is fired by a compare-and-set on the row's ``next_ms`` in the transaction that inserts
its job (``sysjobs.store.schedules``), so N pools ticking the same schedule start exactly
one job per tick, on SQLite and PostgreSQL.

Ticks missed while no worker ran are **coalesced**: the first tick after the outage starts
one job standing for the latest tick that fell due (its data says since when ticks were
missed), and the schedule continues from the first tick after now — as Kubernetes'
CronJob and systemd's persistent timers do: never a burst of catch-up jobs.
docs/schedules.md is the reference.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from sysjobs.jobs import control
from sysjobs.jobs.hooks import fire
from sysjobs.jobs.models import Job
from sysjobs.jobs.parts import EngineParts
from sysjobs.jobs.schedule_models import Schedule, ScheduleInfo, Tick
from sysjobs.store.rows import Row
from sysjobs.store.schedules import DEFINED, ScheduleStore

log = logging.getLogger(__name__)
#: When a due tick could not be fired here (held, or a failure), this long until the next look.
RECHECK_MS = 5_000

__all__ = ["Schedule", "ScheduleInfo", "Scheduler", "Tick", "list_schedules"]


class Scheduler:
    """The schedules of one engine's app: defines their rows, fires their due ticks."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts
        self.store = ScheduleStore(parts.database, parts.settings.app, parts.clock.now_ms)
        self._lock = threading.Lock()
        self._defined: dict[str, Schedule] = {}
        #: Next tick per schedule this scheduler may fire (None: not by this one).
        self._next: dict[str, int | None] = {}
        #: Schedules whose job this engine cannot build (its type is not registered here):
        #: left to the workers that can, until the schedules are defined again.
        self._unable: set[str] = set()

    def define(self, schedules: Sequence[Schedule]) -> None:
        """Make ``schedules`` the app's: rows added, changed or made inert to match."""
        with self._lock:
            self._defined = {s.name: s for s in schedules}
            self._unable.clear()
        self.sync()

    def sync(self) -> None:
        """Bring the app's rows in line with the defined schedules, then read them."""
        now = self.parts.clock.now_ms()
        defined = self._snapshot()
        rows = {row["name"]: row for row in self.store.rows()}
        for schedule in defined.values():
            self._sync_one(schedule, rows.get(schedule.name), now)
        if any(row["active"] and name not in defined for name, row in rows.items()):
            self.store.deactivate_others(sorted(defined))
        self._remember(self.store.rows(sorted(defined)) if defined else [])

    def _sync_one(self, schedule: Schedule, row: Row | None, now: int) -> None:
        values = schedule.values()
        if row is None:
            self.store.create(schedule.name, values, schedule.first_after(now))
            return
        if row["active"] and all(row[key] == values[key] for key in DEFINED):
            if row["next_ms"] is None and schedule.enabled:  # a clock once past year 9999
                next_ms = schedule.first_after(now)  # (see sysjobs.cron.LAST_MS)
                if next_ms is not None:
                    self.store.redefine(schedule.name, row, values, next_ms)
            return
        keep = row["active"] and row["spec"] == schedule.spec  # (only the target changed)
        next_ms = row["next_ms"] if keep else schedule.first_after(now)
        self.store.redefine(schedule.name, row, values, next_ms)

    def tick(self) -> list[Job]:
        """Fire every tick due by the engine's clock; the jobs this call started (another
        worker may have fired a tick first: then none for it here).

        A due tick whose job type is held now (the app is stopped) is not fired: it stays
        due — missed ticks meanwhile are coalesced — and is looked at again after
        :data:`RECHECK_MS`, as is every due tick after a failure (the database away)."""
        now = self.parts.clock.now_ms()
        with self._lock:
            due = sorted(name for name, at in self._next.items() if at is not None and at <= now)
        if not due:
            return []
        try:
            started, held = self._fire_due(due, now)
        except Exception:
            self._postpone(due, now + RECHECK_MS)
            raise
        self._postpone(held, now + RECHECK_MS)
        return started

    def _fire_due(self, due: list[str], now: int) -> tuple[list[Job], list[str]]:
        """Fire the due ticks of ``due``: the jobs started, and the names held back."""
        claimable = set(self.parts.registry.claimable())
        defined = self._snapshot()
        started: list[Job] = []
        held: list[str] = []
        rows = self.store.rows(due)
        for row in rows:
            schedule = defined.get(row["name"])
            if schedule is not None and self._held(schedule.job_type, claimable):
                held.append(schedule.name)
                continue
            job = self._fire_if_due(row, now)
            if job is not None:
                started.append(job)
        self._remember(self.store.rows(due) if started else rows)
        return started, held

    def _held(self, job_type: str, claimable: set[str]) -> bool:
        """Registered, but no worker may claim it now (a hold: the app is stopped)."""
        return self.parts.registry.get(job_type) is not None and job_type not in claimable

    def _postpone(self, names: Sequence[str], until_ms: int) -> None:
        """Look at these due schedules again at ``until_ms`` (in this scheduler only: the
        rows keep their due tick, which any other worker may fire meanwhile)."""
        with self._lock:
            for name in names:
                if self._next.get(name) is not None:
                    self._next[name] = until_ms

    def due_in_s(self) -> float | None:
        """Seconds until this scheduler's next tick by the engine's clock (0 when one is
        due); None when it has none."""
        with self._lock:
            upcoming = [at for at in self._next.values() if at is not None]
        if not upcoming:
            return None
        return max(0.0, (min(upcoming) - self.parts.clock.now_ms()) / 1000)

    def _fire_if_due(self, row: Row, now: int) -> Job | None:
        schedule = self._snapshot().get(row["name"])
        due_ms = row["next_ms"]
        if schedule is None or not self._fires(schedule, row) or due_ms is None or due_ms > now:
            return None
        try:
            next_ms = schedule.cron.next_after(now)
            tick = Tick(schedule.name, schedule.cron.latest_until(due_ms, next_ms))
            if tick.tick_ms > due_ms:
                tick = Tick(schedule.name, tick.tick_ms, due_ms)
            job_row = self._job_row(schedule, tick)
        except Exception:  # a job this engine cannot build: leave the tick to one that can
            log.exception("sysjobs: schedule %s of app %s not fired here", schedule.name,
                          self.parts.settings.app)  # fmt: skip
            with self._lock:
                self._unable.add(schedule.name)
                self._next[schedule.name] = None
            return None
        if not self.store.fire(schedule.name, schedule.spec, due_ms, next_ms, job_row,
                               tick.tick_ms, target=schedule.target):  # fmt: skip
            return None
        job = Job.from_row({**job_row, "results": None})
        fire(self.parts.hooks, lambda hook: hook.job_enqueued(job))
        return job

    def _job_row(self, schedule: Schedule, tick: Tick) -> dict[str, Any]:
        data = {**schedule.make_data(tick), "_schedule": tick.as_data()}
        job_type = self.parts.registry.require(schedule.job_type)
        return control.new_job_row(
            self.parts, job_type, data, label=tick.label, run_by=None, low_priority=False,
            queue=schedule.queue, lineage=(None, None),
        )  # fmt: skip

    @staticmethod
    def _fires(schedule: Schedule, row: Row) -> bool:
        """Whether this definition fires the row: active, and defined as this one is (a
        process with another manifest redefined it: the row follows that one — also when
        only its target changed, else the old manifest's workers start the old target)."""
        return (bool(row["active"]) and row["spec"] == schedule.spec
                and row["target"] == schedule.target)  # fmt: skip

    def _remember(self, rows: Sequence[Row]) -> None:
        defined = self._snapshot()
        with self._lock:
            for row in rows:
                schedule = defined.get(row["name"])
                mine = schedule is not None and self._fires(schedule, row)
                able = row["name"] not in self._unable
                self._next[row["name"]] = row["next_ms"] if mine and able else None
            for name in [n for n in self._next if n not in defined]:
                del self._next[name]

    def _snapshot(self) -> dict[str, Schedule]:
        with self._lock:
            return dict(self._defined)


def list_schedules(parts: EngineParts) -> list[ScheduleInfo]:
    """The schedules of ``parts``' app, by name, removed ones included."""
    store = ScheduleStore(parts.database, parts.settings.app, parts.clock.now_ms)
    return [ScheduleInfo.from_row(row) for row in store.rows()]
