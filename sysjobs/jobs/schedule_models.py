"""The value objects of scheduled jobs: a schedule as the app defines it, the tick a job
runs for, and a schedule as the CLI and the dashboard show it (``sysjobs.jobs.schedules``
fires the ticks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sysjobs.cron import Cron
from sysjobs.jobs.models import to_datetime
from sysjobs.jobs.status import JobStatus
from sysjobs.store.rows import Row
from sysjobs.store.schedules import DEFINED

__all__ = ["Schedule", "ScheduleInfo", "Tick"]


@dataclass(frozen=True)
class Tick:
    """The tick a scheduled job runs for."""

    schedule: str
    #: The tick (ms, UTC) the job stands for: the latest one that fell due.
    tick_ms: int
    #: When more than one tick fell due (no worker ran), the first of them; else None.
    missed_since_ms: int | None = None

    def as_data(self) -> dict[str, Any]:
        """What the job's data (``_schedule``) and a listener's ``event`` carry."""
        missed = self.missed_since_ms
        return {"name": self.schedule, "tick": _iso(self.tick_ms), "tickMs": self.tick_ms,
                "missedSince": None if missed is None else _iso(missed)}  # fmt: skip

    @property
    def label(self) -> str:
        """The job's label: which schedule, which tick (UTC)."""
        return f"Schedule {self.schedule} at {_iso(self.tick_ms)}"


@dataclass(frozen=True)
class Schedule:
    """One schedule as the app defines it: when, and the job each tick starts."""

    name: str
    cron: Cron
    #: What it starts, for people: ``listener:<name>``, ``script:<file>``, ``script:(inline)``.
    target: str
    #: The job type of each tick's job, and its data for a tick.
    job_type: str
    make_data: Callable[[Tick], Mapping[str, Any]]
    enabled: bool = True
    queue: str | None = None

    @property
    def spec(self) -> str:
        """What the next tick is computed from: a change restarts the count."""
        state = "on" if self.enabled else "off"
        return f"{self.cron.expression}|{self.cron.timezone}|{state}"

    def values(self) -> dict[str, Any]:
        """The row's defined columns (``sysjobs.store.schedules.DEFINED``)."""
        values = {"cron": self.cron.expression, "timezone": self.cron.timezone,
                  "target": self.target, "enabled": self.enabled, "spec": self.spec}  # fmt: skip
        return {key: values[key] for key in DEFINED}

    def first_after(self, now_ms: int) -> int | None:
        """The first tick after ``now_ms``; None while disabled."""
        return self.cron.next_after(now_ms) if self.enabled else None


class ScheduleInfo(BaseModel):
    """One schedule as the CLI and the dashboard show it."""

    model_config = ConfigDict(frozen=True)

    name: str
    cron: str
    timezone: str
    target: str
    enabled: bool
    #: ``active``; ``disabled`` (``enabled: false``); ``removed`` (gone from the manifest).
    state: Literal["active", "disabled", "removed"]
    next_run_at: datetime | None
    last_tick_at: datetime | None
    last_run_at: datetime | None
    last_job_id: str | None
    #: The last job's status now (None: no job yet, or pruned).
    last_job_status: JobStatus | None

    @classmethod
    def from_row(cls, row: Row) -> ScheduleInfo:
        state = "removed" if not row["active"] else "active" if row["enabled"] else "disabled"
        status = row.get("last_status")
        return cls(
            name=row["name"], cron=row["cron"], timezone=row["timezone"], target=row["target"],
            enabled=bool(row["enabled"]), state=state, next_run_at=to_datetime(row["next_ms"]),
            last_tick_at=to_datetime(row["last_tick_ms"]),
            last_run_at=to_datetime(row["last_fired_ms"]), last_job_id=row["last_job_id"],
            last_job_status=None if status is None else JobStatus(status),
        )  # fmt: skip


def _iso(ms: int) -> str:
    """Milliseconds as an ISO instant in UTC (``2027-01-15T09:00:00Z``)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
