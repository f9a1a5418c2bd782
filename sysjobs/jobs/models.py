"""Frozen value objects handed across the engine's boundary: ``Job``, ``JobState``, ``JobLog``,
``JobEvent``.

A ``Job`` is a snapshot of one row at the moment it was read; ``waiting_ms`` and
``duration_ms`` are computed against the clock when called, so they keep growing while the
job is PENDING / RUNNING, as the spec says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sysjobs.jobs.ids import now_ms
from sysjobs.jobs.status import JobStatus


def to_datetime(ms: int | None) -> datetime | None:
    """Stored milliseconds -> an aware UTC datetime."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def to_ms(value: datetime | None) -> int | None:
    """An aware datetime -> milliseconds since the epoch."""
    return None if value is None else int(value.timestamp() * 1000)


class Job(BaseModel):
    """One background job as last read from the database."""

    model_config = ConfigDict(frozen=True)

    #: 24 lowercase hex, time-ordered.
    id: str
    #: The job type's name, e.g. ``EXECUTE_ACTION``.
    type: str
    #: Human-readable label (defaults to the type).
    label: str | None
    status: JobStatus
    #: 0-100, as last reported by the handler.
    progress: int
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    #: True once any ERROR log was written.
    has_errors: bool
    #: ``{"id", "name"}`` of the user who triggered the job, or None.
    run_by: dict[str, str] | None
    #: Input of the handler (keys starting with ``_`` are private inputs).
    data: dict[str, Any]
    #: What the handler reported, or None.
    results: dict[str, Any] | None
    low_priority: bool
    queue: str
    #: The job that was running when this one was created, and the root of that chain.
    parent_id: str | None
    root_id: str | None
    #: How many times a worker has claimed it (the fencing token with the owner).
    attempt: int = 0
    #: The key of the app whose job it is (``sysjobs.jobs.apps``).
    app: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        """Build from a store row (milliseconds, flat ``run_by_*`` columns)."""
        run_by = None
        if row.get("run_by_id") is not None or row.get("run_by_name") is not None:
            run_by = {"id": row.get("run_by_id") or "", "name": row.get("run_by_name") or ""}
        return cls(
            id=row["id"],
            type=row["type"],
            label=row["label"],
            status=JobStatus(row["status"]),
            progress=row["progress"],
            created_at=to_datetime(row["created_ms"]),
            started_at=to_datetime(row["started_ms"]),
            ended_at=to_datetime(row["ended_ms"]),
            has_errors=bool(row["has_errors"]),
            run_by=run_by,
            data=dict(row["data"] or {}),
            results=row.get("results"),
            low_priority=bool(row["low_priority"]),
            queue=row["queue"],
            parent_id=row["parent_id"],
            root_id=row["root_id"],
            attempt=row["attempt"],
            app=row.get("app", ""),
        )

    def public_data(self) -> dict[str, Any]:
        """``data`` without private ``_`` inputs: what scripts, the CLI and dashboard show."""
        return {k: v for k, v in self.data.items() if not k.startswith("_")}

    def waiting_ms(self) -> int:
        """Creation to start; grows while PENDING (a job ended unstarted stops at its end)."""
        until = to_ms(self.started_at) or to_ms(self.ended_at) or now_ms()
        return max(0, until - (to_ms(self.created_at) or 0))

    def duration_ms(self) -> int:
        """Start to end; grows while RUNNING; 0 if it never started."""
        started = to_ms(self.started_at)
        if started is None:
            return 0
        return max(0, (to_ms(self.ended_at) or now_ms()) - started)


class JobLog(BaseModel):
    """One log line of a job (append-only)."""

    model_config = ConfigDict(frozen=True)

    id: int
    job_id: str
    timestamp: datetime
    level: Literal["INFO", "ERROR"]
    message: str
    #: Free-form JSON for diagnosis; may be None.
    additional_info: Any = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobLog:
        """Build from a ``job_logs`` row."""
        return cls(
            id=row["id"],
            job_id=row["job_id"],
            timestamp=to_datetime(row["ts_ms"]),
            level=row["level"],
            message=row["message"],
            additional_info=row["additional_info"],
        )


class AppLog(BaseModel):
    """One line of the app's own log (``sys.logs``), separate from every job's log."""

    model_config = ConfigDict(frozen=True)

    id: int
    timestamp: datetime
    level: Literal["INFO", "WARN", "ERROR", "DEBUG"]
    message: str
    #: The ``exception`` given with the line (an Error's name, message and stack, or any
    #: JSON value); may be None.
    additional_info: Any = None
    #: The job whose script wrote the line, or None (a script run outside any job).
    job_id: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AppLog:
        """Build from an ``app_logs`` row."""
        return cls(
            id=row["id"],
            timestamp=to_datetime(row["ts_ms"]),
            level=row["level"],
            message=row["message"],
            additional_info=row["additional_info"],
            job_id=row["job_id"],
        )


@dataclass(frozen=True, slots=True)
class JobState:
    """A job's status and progress, read without the rest of its row: what a job that
    waits on others (``executeInJob``'s owner on its parts) reads again and again — a
    whole row carries the data, checkpoint and results, which grow with the job's work."""

    #: 24 lowercase hex.
    id: str
    status: JobStatus
    #: 0-100.
    progress: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobState:
        """Build from a row of ``id``, ``status`` and ``progress``."""
        return cls(str(row["id"]), JobStatus(row["status"]), int(row["progress"]))


class JobEvent(BaseModel):
    """One recorded transition (audit trail, dashboard)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    from_status: JobStatus | None
    to_status: JobStatus
    attempt: int
    #: The worker lease holder involved, if any.
    owner: str | None
    reason: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobEvent:
        """Build from a ``job_events`` row."""
        return cls(
            at=to_datetime(row["at_ms"]),
            from_status=row["from_status"],
            to_status=row["to_status"],
            attempt=row["attempt"],
            owner=row["owner"],
            reason=row["reason"],
        )
