"""Named queries for a job's own life: create, read, user-driven transitions, results.

Each method is one query (or one short transaction) with a docstring saying what it does
and which index serves it. Transitions read the row under lock first (``FOR UPDATE`` on
PostgreSQL; SQLite's write lock is already held) so the audit event records the true
``from`` status and an illegal request can name the status it met. A transition's time is
read under that lock and never falls before the job's own earlier times (see
``store/leases.py`` on time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.rows import (
    Apps,
    Now,
    Row,
    add_events,
    as_row,
    event,
    fence,
    job_select,
    landing_hints,
    last_event_ms,
    of_app,
    stamp,
    wall_ms,
)  # fmt: skip
from sysjobs.store.schema import job_events, job_logs, job_results, jobs
from sysjobs.store.tree import lineage_statuses
from sysjobs.store.turns import with_turns


class JobStore:
    """The job table's queries that are not about leases, listing or retention."""

    def __init__(self, db: Database, now: Now = wall_ms) -> None:
        self.db = db
        self.now = now

    def insert_jobs(
        self, rows: Sequence[Mapping[str, Any]], *, reason: str | None = None
    ) -> list[Row]:
        """Insert new PENDING jobs, their empty results rows and creation events (one tx);
        the rows as stored. A child of a job stopping or stopped is created STOPPED, of one
        canceling or canceled CANCELED (its parent's status read under a share lock:
        ``sysjobs.store.tree``), so no child escapes its tree's stop or cancel. Each job gets
        its turn in its app's pending order (``store/turns.py``)."""
        if not rows:
            return []
        with self.db.write() as tx:
            parents = lineage_statuses(tx.connection, [r["parent_id"] for r in rows
                                                       if r.get("parent_id")])  # fmt: skip
            stored = [_born(r, parents.get(r.get("parent_id") or "")) for r in rows]
            insert = self.db.dialect.insert_rows
            insert(tx.connection, jobs, with_turns(tx.connection, [row for row, _ in stored]))
            insert(tx.connection, job_results, [{"job_id": r["id"], "app": r["app"]} for r in rows])
            insert(tx.connection, job_events, [
                event(r["id"], r["created_ms"], a, b, app=r["app"], reason=why)
                for r, steps in stored for a, b, why in _birth(steps, reason)
            ])  # fmt: skip
            tx.hint("work", *(f"job:{r['id']}" for r in rows[:50]))
        return [row for row, _ in stored]

    def get_job(self, job_id: str, *, apps: Apps) -> Row | None:
        """One job by primary key, with its results; None when it is not one of ``apps``."""
        with self.db.read() as conn:
            found = conn.execute(job_statement(job_id, apps)).first()
        return as_row(found) if found is not None else None

    def job_status(self, job_id: str, *, apps: Apps) -> str | None:
        """Only the job's status; None when it is not one of ``apps``. What a waiter
        re-reads on every wake-up: a job that reports progress often wakes it often, and
        its whole row (data, checkpoint, results) grows with its work."""
        query = sa.select(jobs.c.status).where(jobs.c.id == job_id, *of_app(jobs.c.app, apps))
        with self.db.read() as conn:
            found = conn.execute(query).scalar_one_or_none()
        return None if found is None else str(found)

    def states(self, job_ids: Sequence[str], *, apps: Apps) -> list[Row]:
        """``id``, ``status`` and ``progress`` of those of ``job_ids`` that are jobs of
        ``apps``, in no order (primary key): what an owner polls of its parts, without
        their data, checkpoints and results."""
        if not job_ids:
            return []
        query = sa.select(jobs.c.id, jobs.c.status, jobs.c.progress).where(
            jobs.c.id.in_(list(job_ids)), *of_app(jobs.c.app, apps)
        )
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def results_of(self, job_ids: Sequence[str], *, apps: Apps) -> dict[str, Any]:
        """{id: results} of those of ``job_ids`` that are jobs of ``apps`` (results None
        when the job set none), without the jobs' rows."""
        if not job_ids:
            return {}
        query = sa.select(job_results.c.job_id, job_results.c.results).where(
            job_results.c.job_id.in_(list(job_ids)), *of_app(job_results.c.app, apps)
        )
        with self.db.read() as conn:
            return {str(i): results for i, results in conn.execute(query)}

    def transition(
        self,
        job_id: str,
        *,
        apps: Apps,
        paths: Mapping[str, Sequence[str]],
        reason: str | None = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> tuple[Row | None, str | None]:
        """Move a job along ``paths[current]``; one event per step, ``values[landing]`` set.

        A landing in a final or stopped status gets its end date here, from the clock read
        under the row lock. Returns ``(row_after, None)`` on success,
        ``(None, current_status)`` when the status does not allow it, and ``(None, None)``
        when the job does not exist (or is not one of ``apps``).
        """
        with self.db.write() as tx:
            locked = _locked(tx.connection, sa.and_(jobs.c.id == job_id, *of_app(jobs.c.app, apps)))
            if locked is None:
                return None, None
            current = str(locked.status)
            if current not in paths:
                return None, current
            now_ms = stamp(self.now(), locked.created_ms, locked.started_ms, locked.ended_ms,
                           locked.last_event_ms)  # fmt: skip
            path = paths[current]
            extra = dict((values or {}).get(path[-1], {}))
            if path[-1] in _ENDED:
                extra["ended_ms"] = now_ms
            tx.connection.execute(
                jobs.update().where(jobs.c.id == job_id).values(status=path[-1], **extra)
            )
            add_events(
                tx.connection,
                [event(job_id, now_ms, a, b, app=locked.app, reason=reason)
                 for a, b in pairwise([current, *path])],
            )
            tx.hint(f"job:{job_id}", *landing_hints(job_id, path[-1]))
            after = tx.connection.execute(job_select().where(jobs.c.id == job_id)).one()
        return as_row(after), None

    def set_low_priority(self, job_id: str, flag: bool, *, apps: Apps) -> Row | None:
        """Flip the low-priority flag (any status); None when the job does not exist (or is
        not one of ``apps``)."""
        mine = (jobs.c.id == job_id, *of_app(jobs.c.app, apps))
        with self.db.write() as tx:
            done = tx.connection.execute(jobs.update().where(*mine).values(low_priority=flag))
            if done.rowcount == 0:
                return None
            tx.hint(f"job:{job_id}", "work")
            after = tx.connection.execute(job_select().where(jobs.c.id == job_id)).one()
        return as_row(after)

    def events(self, job_id: str, *, apps: Apps) -> list[Row]:
        """The audit trail of one job, oldest first (``ix_job_events_job``); empty when the
        job is not one of ``apps``."""
        query = (
            job_events.select()
            .where(job_events.c.job_id == job_id, *of_app(job_events.c.app, apps))
            .order_by(job_events.c.id)
        )
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def checkpoint(self, job_id: str) -> dict[str, Any] | None:
        """The checkpoint saved by the job's last run (given back on resume)."""
        query = sa.select(job_results.c.checkpoint).where(job_results.c.job_id == job_id)
        with self.db.read() as conn:
            value = conn.execute(query).scalar()
        return dict(value) if isinstance(value, dict) else None

    def write_result_fields(
        self, job_id: str, owner: str, attempt: int, values: Mapping[str, Any]
    ) -> bool:
        """Set ``results``/``checkpoint`` if the lease still holds; False when fenced off.

        One statement: the fence is checked (and the job row locked) inside the ``UPDATE``.
        """
        held = sa.exists(
            sa.select(jobs.c.id).where(fence(job_id, owner, attempt)).with_for_update()
        )
        update = job_results.update().where(job_results.c.job_id == job_id, held).values(**values)
        with self.db.write() as tx:
            if tx.connection.execute(update).rowcount == 0:
                return False
            tx.hint(f"job:{job_id}")
        return True


    def write_chunk(
        self, job_id: str, owner: str, attempt: int, entries: Sequence[Mapping[str, Any]],
        values: Mapping[str, Any],
    ) -> bool:  # fmt: skip
        """A chunk's group commit: its log lines and ``results``/``checkpoint`` in one
        transaction, all or nothing, if the lease still holds; False when fenced off.

        The job row is locked first (``FOR UPDATE``; SQLite's write lock is already held),
        so the reaper cannot take the job back between the check and the writes; an ERROR
        line sets ``has_errors`` in the same statement.
        """
        errors = any(e["level"] == "ERROR" for e in entries)
        held = sa.select(jobs.c.app).where(fence(job_id, owner, attempt)).with_for_update()
        with self.db.write() as tx:
            conn = tx.connection
            app = conn.execute(held).scalar()
            if app is None:
                return False
            if errors:
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(has_errors=True))
            rows = [{"job_id": job_id, "app": app, "ts_ms": e["ts_ms"], "level": e["level"],
                     "message": e["message"], "additional_info": e.get("additional_info")}
                    for e in entries]  # fmt: skip
            self.db.dialect.insert_rows(conn, job_logs, rows)
            if values:
                conn.execute(
                    job_results.update().where(job_results.c.job_id == job_id).values(**values)
                )
            tx.hint(f"job:{job_id}")
        return True


#: Statuses a transition gives an end date.
_ENDED = frozenset({"FINISHED", "STOPPED", "CANCELED"})


def job_statement(job_id: str, apps: Apps) -> sa.Select[Any]:
    """One job by primary key, with its results, if it is one of ``apps``."""
    return job_select().where(jobs.c.id == job_id, *of_app(jobs.c.app, apps))


#: ``(from, to, reason)`` of a new job's events.
_Steps = list[tuple[str | None, str, str | None]]
#: A parent's status -> the statuses its new child passes through after PENDING, and why.
_INHERITED: dict[str, tuple[tuple[str, ...], str]] = {
    "STOPPING": (("STOPPED",), "parent stopped"),
    "STOPPED": (("STOPPED",), "parent stopped"),
    "CANCELING": (("CANCELING", "CANCELED"), "parent canceled"),
    "CANCELED": (("CANCELING", "CANCELED"), "parent canceled"),
}


def _born(row: Mapping[str, Any], parent_status: str | None) -> tuple[Row, _Steps]:
    """A new row as stored under its parent's status, and the inherited steps after its
    creation (``(from, to, reason)``, none for a child of a job going on)."""
    inherited = _INHERITED.get(parent_status or "")
    if inherited is None:
        return dict(row), []
    path, why = inherited
    stored = {**row, "status": path[-1], "ended_ms": row["created_ms"]}
    return stored, [(a, b, why) for a, b in pairwise(["PENDING", *path])]


def _birth(steps: _Steps, reason: str | None) -> _Steps:
    """The creation event's step, then the inherited ones."""
    return [(None, "PENDING", reason), *steps]


def _locked(connection: sa.Connection, where: sa.ColumnElement[bool]) -> sa.Row[Any] | None:
    """Status and times of the matching job, row-locked for the rest of the transaction."""
    query = sa.select(
        jobs.c.app, jobs.c.status, jobs.c.created_ms, jobs.c.started_ms, jobs.c.ended_ms,
        last_event_ms(),
    ).where(where).with_for_update()
    return connection.execute(query).first()
