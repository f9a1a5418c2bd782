"""Turns: the order in which an app's pending jobs are claimed, fair per root job.

A claim takes an app's pending jobs lowest ``turn`` first (``ix_jobs_app_pending_order``:
``app, turn, id``). The turns are set at enqueue, inside the enqueue's transaction, by the
rule of start-time fair queuing with each root job's tree as one flow:

- the app's **head** is the lowest turn among its pending jobs — where the claims are now
  (with none pending, the new job's creation time);
- a job that belongs to no tree (a root job: no ``root_id``) takes the head: it goes after
  the pending jobs of the head's turn that are older, and before every later turn;
- a job of a tree (``root_id`` set) takes the head, or one more than its tree's last
  pending turn when that is later (``ix_jobs_root_pending``).

So a root job with 50,000 pending children holds turns head … head + 49,999, one per child,
and a job enqueued meanwhile takes the head: it is claimed in the next claims, not after
the backlog. Two such trees interleave one to one. Within a tree, jobs keep their order;
jobs of equal turn go by id (creation order). No wall clock paces it: how fast the workers
go does not matter, only the order.

A job retried after a lost lease keeps its turn. Jobs a resume puts back to PENDING (a
job with its stopped tree) keep their order but start no earlier than the head
(:func:`catch_up`): a tree stopped for a day would otherwise go before every job pending
now, and starve the other trees until it is done. A pending
job that no worker takes (its queue served by none, low priority behind a backlog until it
ages) holds the head back: jobs enqueued meanwhile take its turn, and trees started then
catch up with older trees before they interleave (docs/many-apps.md).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sysjobs.store.schema import jobs

_PENDING: sa.ColumnClause[str] = sa.literal_column("'PENDING'")  # (see sqlite/leases.py)


def with_turns(
    connection: sa.Connection, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``rows`` (new pending jobs, in the order given) with their ``turn``; a row that has
    one keeps it. Reads the head once per app and each tree's last turn once."""
    heads: dict[str, int] = {}
    last: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        if row.get("turn") is not None:
            out.append(dict(row))
            continue
        app = row["app"]
        if app not in heads:
            heads[app] = _head(connection, app, int(row["created_ms"]))
        turn = heads[app]
        tree = row.get("root_id")
        if tree is not None:
            if tree not in last:
                found = _tree_last(connection, tree)
                last[tree] = found if found is not None else turn - 1
            turn = max(turn, last[tree] + 1)
            last[tree] = turn
        out.append({**row, "turn": turn})
    return out


def head(connection: sa.Connection, app: str, now_ms: int) -> int:
    """The app's head (see the module docstring): where a job enqueued now would go."""
    return _head(connection, app, now_ms)


def catch_up(connection: sa.Connection, ids: Sequence[str], head_turn: int) -> None:
    """Shift the turns of those of ``ids`` that are PENDING (just resumed) so that the
    lowest is ``head_turn`` (the app's head before the resume) when it was lower, keeping
    their order: the resumed tree then interleaves with the trees pending now, as a tree
    started now would."""
    if not ids:
        return
    mine = (jobs.c.id.in_(list(ids)), jobs.c.status == _PENDING)
    low = connection.execute(sa.select(sa.func.min(jobs.c.turn)).where(*mine)).scalar()
    if low is not None and int(low) < head_turn:
        shift = head_turn - int(low)
        connection.execute(jobs.update().where(*mine).values(turn=jobs.c.turn + shift))


def _head(connection: sa.Connection, app: str, now_ms: int) -> int:
    """The lowest pending turn of ``app`` (the first entry of its pending order), or
    ``now_ms`` when it has none pending."""
    found = connection.execute(_head_statement(), {"b_app": app}).scalar()
    return now_ms if found is None else int(found)


def _tree_last(connection: sa.Connection, root_id: str) -> int | None:
    """The highest pending turn of the tree of ``root_id`` (its children), if any."""
    found = connection.execute(_tree_statement(), {"b_root": root_id}).scalar()
    return None if found is None else int(found)


# Built once each: an enqueue pays for neither the statement's construction nor its cache key.
@functools.cache
def _head_statement() -> sa.Select[Any]:
    return (
        sa.select(jobs.c.turn)
        .where(jobs.c.status == _PENDING, jobs.c.app == sa.bindparam("b_app"))
        .order_by(jobs.c.turn, jobs.c.id)
        .limit(1)
    )


@functools.cache
def _tree_statement() -> sa.Select[Any]:
    return (
        sa.select(jobs.c.turn)
        .where(jobs.c.status == _PENDING, jobs.c.root_id == sa.bindparam("b_root"),
               jobs.c.root_id.is_not(None))
        .order_by(jobs.c.turn.desc())
        .limit(1)
    )  # fmt: skip
