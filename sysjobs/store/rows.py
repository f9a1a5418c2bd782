"""Shared bits of the store's queries: row shape, the job select, events, fences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sysjobs.store.schema import job_events, job_results, jobs

#: A row as the store hands it upward: column name -> value (``results`` joined in).
Row = dict[str, Any]

#: The statuses in which a job is held by a worker's lease.
LEASED = ("RUNNING", "STOPPING", "CANCELING")


def job_select() -> sa.Select[Any]:
    """Jobs with their results (one row per job; ``job_results`` is created with the job)."""
    return sa.select(*jobs.c, job_results.c.results).select_from(
        jobs.outerjoin(job_results, job_results.c.job_id == jobs.c.id)
    )


def as_row(row: sa.Row[Any]) -> Row:
    """A plain dict, so nothing above the store sees SQLAlchemy types."""
    return dict(row._mapping)


def fence(job_id: str, owner: str, attempt: int) -> sa.ColumnElement[bool]:
    """The condition every write from a lease holder carries: same owner, same attempt."""
    return sa.and_(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.attempt == attempt)


_EVENTS_INSERT = job_events.insert()


def add_events(connection: sa.Connection, events: Sequence[Mapping[str, Any]]) -> None:
    """Append transitions to the audit trail (same transaction as the change)."""
    if events:
        connection.execute(_EVENTS_INSERT, [dict(e) for e in events])


def event(
    job_id: str,
    at_ms: int,
    before: str | None,
    after: str,
    *,
    attempt: int = 0,
    owner: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One ``job_events`` row."""
    return {
        "job_id": job_id,
        "at_ms": at_ms,
        "from_status": before,
        "to_status": after,
        "attempt": attempt,
        "owner": owner,
        "reason": reason,
    }
