"""Shared bits of the store's queries: row shape, the job select, events, fences."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sysjobs.store.schema import job_events, job_results, jobs

#: A row as the store hands it upward: column name -> value (``results`` joined in).
Row = dict[str, Any]

#: The statuses in which a job is held by a worker's lease.
LEASED = ("RUNNING", "STOPPING", "CANCELING")
#: The leased statuses of a job asked to end (stop, cancel, kill, force-stop).
ASKED_TO_END = ("STOPPING", "CANCELING")

#: The apps a query may see: their keys, or None for every app (an operator's view). Every
#: read and write by job id takes one, so a job of another app is simply not there.
Apps = Sequence[str] | None

#: Milliseconds since the epoch; the engine hands in its injected clock's ``now_ms``.
Now = Callable[[], int]


def landing_hints(job_id: str, landing: str) -> list[str]:
    """The hints a job's landing in ``landing`` adds to its ``job:<id>``: ``work`` for a
    claimable job; ``stop:<id>`` for a running job asked to end, which the pool running it
    relays at once instead of at its next heartbeat (``sysjobs.jobs.hub``)."""
    if landing == "PENDING":
        return ["work"]
    return [f"stop:{job_id}"] if landing in ASKED_TO_END else []


def wall_ms() -> int:
    """The machine's clock, for stores built without one."""
    return time.time_ns() // 1_000_000


def stamp(now: int, *earlier: int | None) -> int:
    """The time to store for a write at ``now`` on a job whose times so far are
    ``earlier``: never before any of them (see ``store/leases.py`` on time)."""
    return max(now, *(t for t in earlier if t is not None))


def last_event_ms() -> sa.Label[Any]:
    """The time of the job's latest event — the high-water mark of its times, since every
    write that dates the job also records an event (``ix_job_events_job``)."""
    latest = sa.select(sa.func.max(job_events.c.at_ms)).where(job_events.c.job_id == jobs.c.id)
    return latest.scalar_subquery().label("last_event_ms")


def job_select() -> sa.Select[Any]:
    """Jobs with their results (one row per job; ``job_results`` is created with the job)."""
    return sa.select(*jobs.c, job_results.c.results).select_from(
        jobs.outerjoin(job_results, job_results.c.job_id == jobs.c.id)
    )


def as_row(row: sa.Row[Any]) -> Row:
    """A plain dict, so nothing above the store sees SQLAlchemy types."""
    return dict(row._mapping)


def of_app(column: sa.ColumnElement[str], apps: Apps) -> list[sa.ColumnElement[bool]]:
    """The terms that keep a query inside ``apps`` (None: every app, the operator's view;
    an empty sequence matches nothing)."""
    if apps is None:
        return []
    if len(apps) == 1:
        return [column == apps[0]]
    return [column.in_(list(apps))]


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
    app: str,
    attempt: int = 0,
    owner: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One ``job_events`` row, in the job's app (``app``: a transition is heard only by
    the app whose job it is)."""
    return {
        "job_id": job_id,
        "app": app,
        "at_ms": at_ms,
        "from_status": before,
        "to_status": after,
        "attempt": attempt,
        "owner": owner,
        "reason": reason,
    }
