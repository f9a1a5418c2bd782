"""Named queries of the job tree: a job's parent and root, its children, and the user verbs
(stop, resume, cancel) moving a job together with the jobs below it.

A job created while another runs records that job as ``parent_id`` and the chain's top as
``root_id`` (None for a root). Reads are served by two indexes of revision 0015:
``ix_jobs_app_parent`` (app, parent_id, status) — children counts index-only, the children
list, a subtree walk — and ``ix_jobs_app_root`` (app, root_id, created_ms, id) — a whole
tree, newest first.

Why a verb on a tree cannot miss a child being created meanwhile (PostgreSQL; SQLite's
write lock serializes both anyway): a new child's insert locks its parent ``FOR SHARE``
and reads the parent's status under that lock (:func:`lineage_statuses`); the verb locks
every job it moves ``FOR UPDATE`` and then looks again for jobs below, until a look finds
none. A child inserted before the verb locked its parent is found by the next look (a new
statement sees what committed before the lock was granted); one inserted after waits for
the verb's commit and then reads its parent stopping or canceling, so it is created
STOPPED or CANCELED itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from sysjobs.store.database import Database
from sysjobs.store.rows import (
    ASKED_TO_END,
    Apps,
    Now,
    Row,
    add_events,
    as_row,
    event,
    job_select,
    last_event_ms,
    of_app,
)  # fmt: skip
from sysjobs.store.schema import jobs
from sysjobs.store.turns import catch_up, head

#: Statuses a child has reached for good (``childrenJobsProcessed`` counts these).
FINAL = ("FINISHED", "CANCELED")
#: Statuses a transition gives an end date (as ``JobStore.transition`` does).
_ENDED = frozenset({"FINISHED", "STOPPED", "CANCELED"})
#: Looks for new jobs below after the first: each one follows a look that moved some; a
#: tree that keeps growing faster than this is left to the next request (never reached in
#: practice: every job moved stops creating children).
MAX_LOOKS = 1000
#: ``job:<id>`` wake-ups sent per verb (waiters on the others are woken by their poll).
MAX_HINTS = 100
#: ``stop:<id>`` hints of one move (the running jobs asked to end), beside its ``job:``
#: hints: together they still fit in one PostgreSQL notification (``MAX_PAYLOAD``); a pool
#: whose job is past them relays the stop at its next heartbeat.
MAX_STOP_HINTS = 20


@dataclass(frozen=True)
class TreeMove:
    """What one verb does: ``top`` moves the job named (its statuses not listed refuse the
    verb, unless final), ``below`` moves every job under it; ``values[landing]`` are set
    on the jobs landing there."""

    top: Mapping[str, Sequence[str]]
    below: Mapping[str, Sequence[str]]
    reason: str
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Statuses of a job below that refuse the verb (a resume while a job below is still
    #: STOPPING: it would land STOPPED after the resume, under a running tree, for good).
    refused_below: Sequence[str] = ()


@dataclass(frozen=True)
class TreeMoved:
    """The outcome: the job named (None when not found or refused), how many jobs below it
    moved, and its status when it refused."""

    row: Row | None
    moved_below: int = 0
    refused_status: str | None = None
    #: A job below whose status refused the verb (``TreeMove.refused_below``), and it.
    refused_by: tuple[str, str] | None = None


class TreeStore:
    """The tree's queries."""

    def __init__(self, db: Database, now: Now) -> None:
        self.db = db
        self.now = now

    def move(self, job_id: str, *, apps: Apps, move: TreeMove) -> TreeMoved:
        """Move the job and everything below it in one transaction (see the module doc).

        The job itself moves by ``move.top``; when it is final it stays and only the jobs
        below move; when its status is neither, nothing moves (``refused_status``).
        """
        with self.db.write() as tx:
            conn = tx.connection
            top = conn.execute(_lock(jobs.c.id == job_id, *of_app(jobs.c.app, apps))).first()
            if top is None:
                return TreeMoved(None)
            status = str(top.status)
            if status not in move.top and status not in FINAL:
                return TreeMoved(None, refused_status=status)
            if move.refused_below:
                busy = conn.execute(_below(top, {s: () for s in move.refused_below}, apps)).first()
                if busy is not None:
                    return TreeMoved(None, refused_by=(str(busy.id), str(busy.status)))
            resumes = any(p[-1] == "PENDING" for p in (*move.top.values(), *move.below.values()))
            head_turn = head(conn, str(top.app), self.now()) if resumes else None
            landed: list[tuple[str, str]] = []  # (job id, its landing)
            if status in move.top:
                landed += _apply(conn, [top], move.top, move, self.now())
            below = 0
            for _ in range(MAX_LOOKS):
                found = list(conn.execute(_below(top, move.below, apps)))
                if not found:
                    break
                ids = _apply(conn, found, move.below, move, self.now())
                below += len(ids)
                landed += ids
            if not landed:
                return TreeMoved(None, refused_status=status)
            moved = [job_id for job_id, _ in landed]
            if head_turn is not None:
                catch_up(conn, moved, head_turn)
            wakes = ["work"] if any(p[-1] == "PENDING" for p in move.below.values()) else []
            # The running jobs asked to end, first: their pools relay it at once.
            stops = [f"stop:{i}" for i, landing in landed if landing in ASKED_TO_END]
            tx.hint(*stops[:MAX_STOP_HINTS], *(f"job:{i}" for i in moved[:MAX_HINTS]), *wakes)
            after = conn.execute(job_select().where(jobs.c.id == job_id)).one()
        return TreeMoved(as_row(after), moved_below=below)

    def labels(self, ids: Sequence[str], *, apps: Apps) -> dict[str, str | None]:
        """``{id: label}`` of the jobs among ``ids`` that exist (primary key)."""
        if not ids:
            return {}
        query = labels_statement(ids, apps)
        with self.db.read() as conn:
            return {str(r.id): r.label for r in conn.execute(query)}

    def children_counts(self, ids: Sequence[str], *, apps: Apps) -> dict[str, tuple[int, int]]:
        """``{id: (children, children in a final status)}`` for a page of jobs, in one
        grouped query over ``ix_jobs_app_parent`` (index-only: app, parent_id, status)."""
        if not ids:
            return {}
        query = children_counts_statement(ids, apps)
        with self.db.read() as conn:
            return {str(p): (int(n), int(f or 0)) for p, n, f in conn.execute(query)}

    def tree_page(
        self, column: str, job_id: str, *, apps: Apps, after: tuple[int, str] | None, limit: int
    ) -> list[Row]:
        """The jobs whose ``column`` (``root_id`` or ``parent_id``) is ``job_id``, newest
        first, after the keyset ``(created_ms, id)``."""
        where = [jobs.c[column] == job_id, *of_app(jobs.c.app, apps)]
        if after is not None:
            where.append(
                sa.tuple_(jobs.c.created_ms, jobs.c.id) < sa.tuple_(*map(sa.literal, after))
            )
        query = (
            job_select().where(*where)
            .order_by(jobs.c.created_ms.desc(), jobs.c.id.desc()).limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            return [as_row(r) for r in conn.execute(query)]

    def tree_count(self, column: str, job_id: str, *, apps: Apps) -> int:
        """How many jobs :meth:`tree_page` pages through."""
        query = sa.select(sa.func.count()).where(
            jobs.c[column] == job_id, *of_app(jobs.c.app, apps)
        )
        with self.db.read() as conn:
            return int(conn.execute(query).scalar() or 0)


def labels_statement(ids: Sequence[str], apps: Apps) -> sa.Select[Any]:
    """The ids and labels of the jobs among ``ids`` (:meth:`TreeStore.labels`)."""
    return sa.select(jobs.c.id, jobs.c.label).where(
        jobs.c.id.in_(sorted(set(ids))), *of_app(jobs.c.app, apps)
    )


def children_counts_statement(ids: Sequence[str], apps: Apps) -> sa.Select[Any]:
    """Per parent among ``ids``: its children, and those in a final status
    (:meth:`TreeStore.children_counts`)."""
    final = sa.case((jobs.c.status.in_(FINAL), 1), else_=0)
    return (
        sa.select(jobs.c.parent_id, sa.func.count(), sa.func.sum(final))
        .where(*of_app(jobs.c.app, apps), jobs.c.parent_id.in_(sorted(set(ids))))
        .group_by(jobs.c.parent_id)
    )


def lineage_statuses(conn: sa.Connection, parent_ids: Sequence[str]) -> dict[str, str]:
    """The status of each parent, read under a share lock held to the end of the inserting
    transaction (see the module docstring): a verb moving a parent waits for the insert,
    and an insert waits for a verb that moved the parent."""
    if not parent_ids:
        return {}
    query = (
        sa.select(jobs.c.id, jobs.c.status)
        .where(jobs.c.id.in_(sorted(set(parent_ids))))
        .order_by(jobs.c.id)
        .with_for_update(read=True)
    )
    return {str(r.id): str(r.status) for r in conn.execute(query)}


def _lock(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The matching jobs' id, status, root and times (their events' too), locked to the
    transaction's end in id order (as the heartbeat locks its rows: no two writers wait on
    each other)."""
    return (
        sa.select(jobs.c.id, jobs.c.app, jobs.c.status, jobs.c.root_id, jobs.c.created_ms,
                  jobs.c.started_ms, jobs.c.ended_ms, last_event_ms())
        .where(*where).order_by(jobs.c.id).with_for_update()
    )  # fmt: skip


def _below(top: sa.Row[Any], statuses: Mapping[str, Sequence[str]], apps: Apps) -> sa.Select[Any]:
    """The jobs under ``top`` in one of ``statuses``: for a root every job of its tree
    (``ix_jobs_app_root``), else its descendants walked by parent (``ix_jobs_app_parent``)."""
    mine = of_app(jobs.c.app, apps)
    if top.root_id is None:
        return _lock(jobs.c.root_id == top.id, jobs.c.status.in_(list(statuses)), *mine)
    walk = (
        sa.select(jobs.c.id).where(jobs.c.parent_id == top.id, *mine).cte("below", recursive=True)
    )
    child = jobs.alias("child")
    walk = walk.union_all(
        sa.select(child.c.id).where(child.c.parent_id == walk.c.id, *of_app(child.c.app, apps))
    )
    return _lock(jobs.c.id.in_(sa.select(walk.c.id)), jobs.c.status.in_(list(statuses)), *mine)


def _apply(
    conn: sa.Connection, found: Sequence[sa.Row[Any]], paths: Mapping[str, Sequence[str]],
    move: TreeMove, now: int,
) -> list[tuple[str, str]]:  # fmt: skip
    """Move the locked jobs ``found`` along ``paths[status]``: one UPDATE per landing
    status, one event per step; returns each job's id with its landing. One time for all,
    never before any of their own times."""
    times = (t for r in found for t in (r.created_ms, r.started_ms, r.ended_ms, r.last_event_ms))
    at = max(now, *(t for t in times if t is not None))
    by_landing: dict[str, list[str]] = {}
    events: list[dict[str, Any]] = []
    for row in found:
        path = [str(row.status), *paths[str(row.status)]]
        by_landing.setdefault(path[-1], []).append(str(row.id))
        events += [event(str(row.id), at, a, b, app=str(row.app), reason=move.reason)
                   for a, b in pairwise(path)]  # fmt: skip
    for landing, ids in by_landing.items():
        values = dict(move.values.get(landing, {}))
        if landing in _ENDED:
            values["ended_ms"] = at
        conn.execute(jobs.update().where(jobs.c.id.in_(ids)).values(status=landing, **values))
    add_events(conn, events)
    return [(job_id, landing) for landing, ids in by_landing.items() for job_id in ids]
