"""SQLite's claim and end-and-claim: the lease rules as statements in one write transaction.

A claim is one atomic statement — ``UPDATE … WHERE id IN (SELECT … ORDER BY … LIMIT n)
RETURNING …`` — under the write lock ``Database.write`` takes with ``BEGIN IMMEDIATE``;
an app's pending scan is served by the partial index ``ix_jobs_app_pending_order``. An end reads
its leased rows, checks the fence (owner, attempt) and the status map, and writes the
release, the results and the events with the commit. The clock is read under the lock and
what is stored clamped to the job's earlier times (``store/leases.py`` on time).
PostgreSQL runs the same rules in its server function (``store/postgres/sql``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from sysjobs.store.backend import ClaimSpec, Finished, FinishSpec
from sysjobs.store.core import CoreBackend
from sysjobs.store.database import Tx
from sysjobs.store.leases import (
    capped_take,
    claim_groups,
    fair_rounds,
    merged,
    release_update,
    released,
    share,
)
from sysjobs.store.rows import (
    LEASED,
    Row,
    add_events,
    as_row,
    event,
    job_select,
    last_event_ms,
    stamp,
)
from sysjobs.store.schema import job_events, job_results, jobs


class SqliteBackend(CoreBackend):
    """``JobBackend`` on SQLite: claims and ends as statements under the write lock."""

    def claim(self, spec: ClaimSpec) -> list[Row]:
        """Lease up to ``limit`` pending jobs: normal (and aged) first, then low priority.

        A read first: with no pending job of the apps at all, nothing is leased and no
        write lock taken. Every commit to the write-ahead log wakes the idle pools of the
        processes sharing the file (``WalWatcher``), a busy job's own group commits
        included; their claims took the write lock each time, and the running job's next
        commit waited behind them (an action over records paid ~40 µs of CPU a record for
        claims that found nothing). A job enqueued after the read commits later, and that
        commit wakes the pool again."""
        if not self._any_pending(spec.apps):
            return []
        events: list[dict[str, Any]] = []
        with self.db.write() as tx:
            rows = _claim_both(tx, spec, self.now(), events)
            add_events(tx.connection, events)
        return rows

    def _any_pending(self, apps: Sequence[str]) -> bool:
        with self.db.read() as connection:
            return any(connection.execute(_ANY_PENDING, {"b_app": app}).first() is not None
                       for app in apps)  # fmt: skip

    def finish(
        self, ends: Sequence[FinishSpec], claims: Sequence[ClaimSpec] = (), *, rows: bool = True
    ) -> Finished:
        """End leases, then lease jobs for ``claims``, in one write transaction.

        Returns each end's row as it is now (None when fenced off: another owner or
        attempt, or a status ``targets`` does not map) and the rows leased for each claim
        (normal, then low priority). Identical claims are merged into one statement. One
        transaction for a worker's finishing jobs and their slots' next ones: a busy
        worker pays one transaction per job or less, instead of two. ``rows=False``: an
        ended job's row holds only ``id`` and ``status`` (what a worker's group commit
        reads), so its data and results are neither read nor decoded.
        """
        groups = claim_groups(claims)
        specs = [merged(claims, members) for members in groups]
        events: list[dict[str, Any]] = []
        with self.db.write() as tx:
            now = self.now()
            ended = _end_leases(tx, ends, now, events, rows=rows)
            per_group = [_claim_both(tx, spec, now, events) for spec in specs]
            tx.insert_at_end(job_events, events)
        return ended, share(claims, groups, per_group)


_PENDING: sa.ColumnClause[str] = sa.literal_column("'PENDING'")
#: A pending job of one app, if any: one probe of the partial index of pending jobs per
#: app (``app IN (…)`` of two apps or more walks every pending job by status instead).
_ANY_PENDING = (
    sa.select(jobs.c.id)
    .where(jobs.c.status == _PENDING, jobs.c.app == sa.bindparam("b_app"))
    .limit(1)
)


@functools.cache
def _claim_statement(low: bool) -> sa.Update:
    """The claim, built once per kind (its cache key is then memoised).

    ``'PENDING'`` is written as a literal so the planner can use the partial index
    ``ix_jobs_app_pending_order`` (``app, turn, id``: one app's pending jobs in turn order;
    a bound parameter hides the value from SQLite's planner); the UPDATE's own re-check is
    written so that no index on ``status`` drives its plan — SQLite otherwise walked every
    pending row to find the few ids of the CTE.

    The queue and type filters are written as ``column || ''`` for the same reason: SQLite
    keeps no statistics, and with one type it took ``type = ?`` on ``ix_jobs_type_created``
    as the best index — it walked every job of that type ever run, finished ones first, so
    a claim's cost grew with the table's history (183 µs after 3,000 jobs, and on). Now it
    walks the pending rows in order and filters them. No row locks: the write lock
    ``BEGIN IMMEDIATE`` took orders every claimer.
    """
    queue, type_ = jobs.c.queue.concat(""), jobs.c.type.concat("")
    pending = sa.and_(
        jobs.c.status == _PENDING,
        jobs.c.app == sa.bindparam("b_app"),
        queue.in_(sa.bindparam("queues", expanding=True)),
        type_.in_(sa.bindparam("types", expanding=True)),
        jobs.c.low_priority.is_(True)
        if low
        else sa.or_(
            jobs.c.low_priority.is_(False), jobs.c.created_ms <= sa.bindparam("aged_before")
        ),
    )
    ids = (
        sa.select(jobs.c.id)
        .where(pending)
        .order_by(jobs.c.turn, jobs.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer()))
        .cte("claimable")
    )
    return (
        jobs.update()
        .where(jobs.c.id.in_(sa.select(ids.c.id)), jobs.c.status.concat("") == _PENDING)
        .values(
            status="RUNNING",
            owner=sa.bindparam("owner"),
            attempt=jobs.c.attempt + 1,
            lease_expires_ms=sa.bindparam("expires"),
            # never before the job's creation (see the module docstring)
            started_ms=sa.func.coalesce(
                jobs.c.started_ms,
                sa.case((jobs.c.created_ms > sa.bindparam("now"), jobs.c.created_ms),
                        else_=sa.bindparam("now")),
            ),
            ended_ms=None,
            force_at_ms=None,
        )
        .returning(*jobs.c)
    )


def _claim_in(
    tx: Tx, spec: ClaimSpec, now: int, *, app: str, queues: Sequence[str], low: bool,
    limit: int, events: list[dict[str, Any]],
) -> list[Row]:
    """The claim statement for ``app``'s jobs of ``queues`` in the open write transaction
    ``tx`` at ``now`` (read under its lock); rows oldest first.

    The claim events are appended to ``events`` for the caller to insert with its own.
    """
    params = {
        "queues": list(queues), "types": list(spec.types_of(app)), "limit": limit,
        "aged_before": spec.aged_before_ms, "owner": spec.owner, "now": now,
        "expires": now + spec.lease_ms, "b_app": app,
    }  # fmt: skip
    if not params["types"]:
        return []
    statement = _claim_statement(low)
    rows = [as_row(r) for r in tx.connection.execute(statement, params)]
    if not rows:
        return []
    _attach_results(tx.connection, rows)
    latest = _latest_events(tx.connection, rows)
    events.extend(_claim_event(r, spec, stamp(now, r["started_ms"], latest.get(r["id"])))
                  for r in rows)  # fmt: skip
    tx.hint(*(f"job:{r['id']}" for r in rows))
    return sorted(rows, key=lambda r: (r["created_ms"], r["id"]))


def _claim_both(tx: Tx, spec: ClaimSpec, now: int, events: list[dict[str, Any]]) -> list[Row]:
    """Normal (and aged) jobs first, then low priority while slots are left; each fairly
    across ``spec.apps`` (:func:`~sysjobs.store.leases.fair_rounds`) and within the spec's
    concurrency limits (:func:`~sysjobs.store.leases.capped_take`: the write lock held
    orders every claim, so the count it reads stays true until the commit)."""

    def taker(low: bool) -> Callable[[str, int], list[Row]]:
        def take(app: str, n: int) -> list[Row]:
            return capped_take(
                spec, app, n, lambda: _running(tx.connection, app),
                lambda queues, k: _claim_in(tx, spec, now, app=app, queues=queues, low=low,
                                            limit=k, events=events),
            )  # fmt: skip

        return take

    rows = fair_rounds(spec.apps, spec.limit, taker(False))
    if spec.allow_low and len(rows) < spec.limit:
        rows += fair_rounds(spec.apps, spec.limit - len(rows), taker(True))
    return rows


def _running(connection: sa.Connection, app: str) -> dict[str, int]:
    """``app``'s leased jobs per queue (``ix_jobs_app_leased``), this transaction's claims
    included."""
    query = (
        sa.select(jobs.c.queue, sa.func.count())
        .where(jobs.c.app == app, jobs.c.owner.is_not(None))
        .group_by(jobs.c.queue)
    )
    return {str(queue): int(n) for queue, n in connection.execute(query)}


def _end_leases(
    tx: Tx, ends: Sequence[FinishSpec], now: int, events: list[dict[str, Any]], *,
    rows: bool = True,
) -> list[Row | None]:
    """Fence-check and end each lease at ``now`` (read under the write lock, and never
    before the job's creation or start): one read, one UPDATE per set of columns."""
    if not ends:
        return []
    ids = [e.job_id for e in ends]
    select = _finish_select() if rows else _fence_select()
    found = {r.id: r for r in tx.connection.execute(select, {"ids": ids})}
    out: list[Row | None] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    results: list[dict[str, Any]] = []
    for end in ends:
        before = found.get(end.job_id)
        if before is None or (before.owner, before.attempt) != (end.owner, end.attempt):
            out.append(None)
            continue
        if before.status not in end.targets:
            out.append(None)
            continue
        current = str(before.status)
        after = end.targets[current]
        at = stamp(now, before.created_ms, before.started_ms, before.last_event_ms)
        changed = released(after, at, end.values)
        params = {f"v_{name}": value for name, value in changed.items()}
        updates.setdefault(tuple(sorted(changed)), []).append({"b_id": end.job_id, **params})
        if end.results is not None:
            changed["results"] = dict(end.results)
            results.append({"b_job_id": end.job_id, "b_results": changed["results"]})
        ended = event(end.job_id, at, current, after, app=before.app, attempt=end.attempt,
                      owner=end.owner)  # fmt: skip
        events.append({**ended, "reason": end.reason})
        tx.hint(f"job:{end.job_id}", *(["work"] if after == "PENDING" else []))
        # The row as it is now, not read back (or what the fence read of it, ``rows=False``).
        out.append({**_job_row(before), **changed} if rows else {"id": end.job_id, "status": after})
    # Nothing in the transaction reads these rows again (they are locked, and a claim only
    # takes pending jobs): they are written with the commit.
    for columns, sets in updates.items():
        tx.execute_at_end(release_update(columns), sets)
    if results:
        tx.execute_at_end(_results_update(), results)
    return out


def _job_row(found: sa.Row[Any]) -> Row:
    """A row of :func:`_finish_select` as the job it is (without ``last_event_ms``)."""
    row = as_row(found)
    del row["last_event_ms"]
    return row


def _latest_events(connection: sa.Connection, rows: list[Row]) -> dict[str, int]:
    """The latest event time of each claimed job that ran before (a resumed or retried job
    has events after its start); a first claim has only its creation: no query."""
    again = [r["id"] for r in rows if r["attempt"] > 1]
    if not again:
        return {}
    query = (
        sa.select(job_events.c.job_id, sa.func.max(job_events.c.at_ms))
        .where(job_events.c.job_id.in_(again)).group_by(job_events.c.job_id)
    )  # fmt: skip
    return {job_id: int(at) for job_id, at in connection.execute(query)}


def _attach_results(connection: sa.Connection, rows: list[Row]) -> None:
    """Add ``results`` and ``checkpoint`` to claimed rows (one query for the batch).

    Only the lease holder writes them, so a first claim (attempt 1) has neither: no query.
    """
    again = [r["id"] for r in rows if r["attempt"] > 1]
    extra = {}
    if again:
        query = sa.select(job_results).where(job_results.c.job_id.in_(again))
        extra = {r.job_id: r for r in connection.execute(query)}
    for row in rows:
        found = extra.get(row["id"])
        row["results"] = found.results if found is not None else None
        row["checkpoint"] = found.checkpoint if found is not None else None


def _claim_event(row: Row, spec: ClaimSpec, at: int) -> dict[str, Any]:
    return event(
        row["id"],
        at,
        "PENDING",
        "RUNNING",
        app=row["app"],
        attempt=row["attempt"],
        owner=spec.owner,
        reason="claimed",
    )


# The finish path's statements, built once each: a statement object memoises its cache key,
# so executing it again skips SQLAlchemy's construction and cache-key work (most of the
# Python time of a finish).
@functools.cache
def _finish_select() -> sa.Select[Any]:
    """The leased rows among ``ids`` (under the write lock); the fence (owner, attempt) is
    checked by the caller on what it read."""
    return (
        job_select()
        .add_columns(last_event_ms())
        .where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)), jobs.c.status.in_(LEASED))
    )


@functools.cache
def _fence_select() -> sa.Select[Any]:
    """:func:`_finish_select` for what the fence (and the end's time) needs only: no data,
    no results."""
    return (
        sa.select(jobs.c.id, jobs.c.app, jobs.c.status, jobs.c.owner, jobs.c.attempt,
                  jobs.c.created_ms, jobs.c.started_ms, last_event_ms())
        .where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)), jobs.c.status.in_(LEASED))
    )


@functools.cache
def _results_update() -> sa.Update:
    return (
        job_results.update()
        .where(job_results.c.job_id == sa.bindparam("b_job_id"))
        .values(results=sa.bindparam("b_results", type_=job_results.c.results.type))
    )
