"""Named queries for leases: claim, heartbeat, fenced finish, recovery of lost leases.

A claim is one atomic statement — ``UPDATE … WHERE id IN (SELECT … ORDER BY … LIMIT n FOR
UPDATE SKIP LOCKED) RETURNING …``. On PostgreSQL the row locks let many claimers share the
table; SQLite ignores ``FOR UPDATE`` and relies on the ``BEGIN IMMEDIATE`` write lock taken by
``Database.write``. The pending scan is served by the partial index ``ix_jobs_pending``.

Time. A job's times must read in order — created ≤ started ≤ ended, and each event's time
no earlier than the job's times before it — or ``find({createTo: started})`` misses a job
that started "before" it was created. A time read before the write began is not enough: a
claimer that read the clock and then waited for SQLite's write lock (or sent its call to
PostgreSQL) could take a job enqueued while it waited, stamping a start tens of
milliseconds before the creation. So every write here reads the clock *inside* its write
transaction, once SQLite's lock is held, and clamps what it stores to the job's own earlier
times: ``started = max(created, now)``, ``ended = max(created, started, now)``, and each
event no earlier than the job's latest event (``rows.last_event_ms``). The clamp
is what makes it robust rather than likely: it also holds when the clock steps back (NTP,
an injected clock), on PostgreSQL where clients' clocks differ and no lock orders them, and
it costs little (the row is already read or written; the latest event is one probe of
``ix_job_events_job``, and a first claim makes none). Revision 0008 makes the server
functions clamp the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from sysjobs.store.database import Database, Tx
from sysjobs.store.rows import (
    LEASED,
    Now,
    Row,
    add_events,
    as_row,
    event,
    fence,
    job_select,
    last_event_ms,
    stamp,
    wall_ms,
)  # fmt: skip
from sysjobs.store.schema import job_events, job_logs, job_results, jobs


@dataclass(frozen=True)
class ClaimSpec:
    """What a claimer can take: its queues, the types it knows, how many, whether low too."""

    owner: str
    queues: Sequence[str]
    types: Sequence[str]
    limit: int
    allow_low: bool
    aged_before_ms: int  # low-priority jobs created before this count as normal (ageing)
    lease_ms: int


@dataclass(frozen=True)
class FinishSpec:
    """One lease to end: its fence, the status map ``{current: next}``, what else to set."""

    job_id: str
    owner: str
    attempt: int
    targets: Mapping[str, str]
    values: Mapping[str, Any]
    reason: str | None = None
    results: Mapping[str, Any] | None = None


#: A recovery decision for one lost job: (new status, reason, log level, log message).
Recovery = tuple[str, str, str, str]


class LeaseStore:
    """Queries run by workers and the reaper.

    On PostgreSQL, claims and finishes are one call of a server function (the dialect's
    ``end_and_claim``, ``store/postgres_leases.py``); SQLite runs the statements below.
    """

    def __init__(self, db: Database, now: Now = wall_ms) -> None:
        self.db = db
        self.now = now

    def claim(self, spec: ClaimSpec) -> list[Row]:
        """Lease up to ``limit`` pending jobs: normal (and aged) first, then low priority."""
        on_server = self.db.dialect.end_and_claim(self.db, [], [spec], self.now, rows=True)
        if on_server is not None:
            return on_server[1][0]
        events: list[dict[str, Any]] = []
        with self.db.write() as tx:
            rows = _claim_both(tx, spec, self.now(), events)
            add_events(tx.connection, events)
        return rows

    def heartbeat(
        self, owner: str, lease_ms: int, *, job_ids: Collection[str] | None = None
    ) -> list[Row]:
        """Extend the leases ``owner`` holds (of ``job_ids`` only, when given); returns
        id/attempt/status/force_at of each."""
        held = [jobs.c.owner == owner, jobs.c.status.in_(LEASED)]
        if job_ids is not None:
            held.append(jobs.c.id.in_(list(job_ids)))
        # Locked in id order, as the group commit locks the rows it ends: two writers
        # that lock overlapping rows in different orders deadlock (they did, once the
        # ends were locked by id and this UPDATE in the table's order).
        locked = (
            sa.select(jobs.c.id).where(*held).order_by(jobs.c.id).with_for_update()
            .cte("held").prefix_with("MATERIALIZED", dialect="postgresql")
        )  # fmt: skip
        update = (
            jobs.update()
            .where(jobs.c.id.in_(sa.select(locked.c.id)))
            .values(lease_expires_ms=sa.bindparam("now", type_=sa.BigInteger()) + lease_ms)
            .returning(jobs.c.id, jobs.c.attempt, jobs.c.status, jobs.c.force_at_ms)
        )
        with self.db.write() as tx:
            return [as_row(r) for r in tx.connection.execute(update, {"now": self.now()})]

    def set_progress(self, job_id: str, owner: str, attempt: int, progress: int) -> bool:
        """Write progress if the lease holds (the heartbeat path; no event, no hint)."""
        with self.db.write() as tx:
            done = tx.connection.execute(
                jobs.update().where(fence(job_id, owner, attempt)).values(progress=progress)
            )
            return done.rowcount > 0

    def lease_status(self, job_id: str, owner: str, attempt: int) -> Row | None:
        """Status and force deadline of a job if the lease still holds, else None."""
        query = sa.select(jobs.c.status, jobs.c.force_at_ms).where(
            fence(job_id, owner, attempt), jobs.c.status.in_(LEASED)
        )
        with self.db.read() as conn:
            found = conn.execute(query).first()
        return as_row(found) if found is not None else None

    def finish(
        self, ends: Sequence[FinishSpec], claims: Sequence[ClaimSpec] = (), *, rows: bool = True
    ) -> tuple[list[Row | None], list[list[Row]]]:
        """End leases, then lease jobs for ``claims``, in one write transaction.

        Returns each end's row as it is now (None when fenced off: another owner or
        attempt, or a status ``targets`` does not map) and the rows leased for each claim
        (normal, then low priority). Identical claims are merged into one statement. One
        transaction for a worker's finishing jobs and their slots' next ones: a busy
        worker pays one transaction per job or less, instead of two. ``rows=False``: an
        ended job's row holds only ``id`` and ``status`` (what a worker's group commit
        reads), so its data and results are neither read nor decoded.
        """
        groups = _claim_groups(claims)
        specs = [_merged(claims, members) for members in groups]
        on_server = self.db.dialect.end_and_claim(self.db, ends, specs, self.now, rows=rows)
        if on_server is not None:
            return on_server[0], _share(claims, groups, on_server[1])
        events: list[dict[str, Any]] = []
        with self.db.write() as tx:
            now = self.now()
            ended = _end_leases(tx, ends, now, events, rows=rows)
            per_group = [_claim_both(tx, spec, now, events) for spec in specs]
            tx.insert_at_end(job_events, events)
        return ended, _share(claims, groups, per_group)

    def recover(
        self,
        decide: Callable[[Row], Recovery],
        *,
        expired_before_ms: int | None = None,
        owner: str | None = None,
        limit: int = 100,
    ) -> list[Row]:
        """Take back leases that expired (or all of one dead ``owner``); ``decide`` says how."""
        where: list[sa.ColumnElement[bool]] = [jobs.c.owner.is_not(None), jobs.c.status.in_(LEASED)]
        if expired_before_ms is not None:
            where.append(jobs.c.lease_expires_ms < expired_before_ms)
        if owner is not None:
            where.append(jobs.c.owner == owner)
        query = (
            sa.select(*jobs.c, last_event_ms())
            .where(*where).limit(limit).with_for_update(skip_locked=True)
        )  # fmt: skip
        with self.db.write() as tx:
            lost = [as_row(r) for r in tx.connection.execute(query)]
            now = self.now()
            for row in lost:
                decision = decide(row)
                at = stamp(now, row["created_ms"], row["started_ms"], row.pop("last_event_ms"))
                _recover_one(tx.connection, row, decision, at)
                tx.hint(f"job:{row['id']}", *(["work"] if decision[0] == "PENDING" else []))
        return lost


_PENDING: sa.ColumnClause[str] = sa.literal_column("'PENDING'")


@functools.cache
def _claim_statement(low: bool, hidden: Callable[[Any], Any]) -> sa.Update:
    """The claim, built once per kind and database (its cache key is then memoised).

    ``'PENDING'`` is written as a literal so the planners can use the partial index
    ``ix_jobs_pending_order`` (a bound parameter hides the value from SQLite's planner); the
    UPDATE's own re-check is written so that no index on ``status`` drives its plan —
    SQLite otherwise walked every pending row to find the few ids of the CTE.

    ``hidden`` is the dialect's ``planner_blind``: on SQLite the queue and type filters are
    written as ``column || ''`` for the same reason: SQLite keeps no statistics, and with
    one type it took ``type = ?`` on ``ix_jobs_type_created`` as the best index — it walked
    every job of that type ever run, finished ones first, so a claim's cost grew with the
    table's history (183 µs after 3,000 jobs, and on). Now it walks the pending rows in
    order and filters them.
    PostgreSQL keeps them plain: its statistics already pick ``ix_jobs_pending_order``,
    and it cannot estimate the expressions (it would then sort every pending row).
    """
    queue, type_ = hidden(jobs.c.queue), hidden(jobs.c.type)
    pending = sa.and_(
        jobs.c.status == _PENDING,
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
        .order_by(jobs.c.created_ms, jobs.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer()))
        .with_for_update(skip_locked=True)
        # Materialised once: inlined into the UPDATE, PostgreSQL may re-run a LIMIT …
        # SKIP LOCKED subquery per row and take more than ``limit`` rows.
        .cte("claimable")
        .prefix_with("MATERIALIZED", dialect="postgresql")
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
    tx: Tx, spec: ClaimSpec, now: int, *, low: bool, limit: int, events: list[dict[str, Any]]
) -> list[Row]:
    """The claim statement in the open write transaction ``tx`` at ``now`` (read under
    its lock); rows oldest first.

    The claim events are appended to ``events`` for the caller to insert with its own.
    """
    params = {
        "queues": list(spec.queues), "types": list(spec.types), "limit": limit,
        "aged_before": spec.aged_before_ms, "owner": spec.owner, "now": now,
        "expires": now + spec.lease_ms,
    }  # fmt: skip
    statement = _claim_statement(low, tx.dialect.planner_blind)
    rows = [as_row(r) for r in tx.connection.execute(statement, params)]
    if not rows:
        return []
    _attach_results(tx.connection, rows)
    latest = _latest_events(tx.connection, rows)
    events.extend(_claim_event(r, spec, stamp(now, r["started_ms"], latest.get(r["id"])))
                  for r in rows)  # fmt: skip
    tx.hint(*(f"job:{r['id']}" for r in rows))
    return sorted(rows, key=lambda r: (r["created_ms"], r["id"]))


def _claim_groups(claims: Sequence[ClaimSpec]) -> list[list[int]]:
    """Indexes of ``claims`` that differ only in ``limit``: each group is one statement."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, spec in enumerate(claims):
        key = (spec.owner, tuple(spec.queues), tuple(spec.types), spec.allow_low, spec.lease_ms)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _merged(claims: Sequence[ClaimSpec], members: list[int]) -> ClaimSpec:
    """A group's claim: its first member's, for all the group's slots."""
    return replace(claims[members[0]], limit=sum(claims[i].limit for i in members))


def _claim_both(tx: Tx, spec: ClaimSpec, now: int, events: list[dict[str, Any]]) -> list[Row]:
    """Normal (and aged) jobs first, then low priority while slots are left."""
    rows = _claim_in(tx, spec, now, low=False, limit=spec.limit, events=events)
    if spec.allow_low and len(rows) < spec.limit:
        rows += _claim_in(tx, spec, now, low=True, limit=spec.limit - len(rows), events=events)
    return rows


def _share(
    claims: Sequence[ClaimSpec], groups: list[list[int]], per_group: list[list[Row]]
) -> list[list[Row]]:
    """Each claim's rows out of its group's, in order, ``limit`` each."""
    out: list[list[Row]] = [[] for _ in claims]
    for members, rows in zip(groups, per_group, strict=True):
        for i in members:
            out[i], rows = rows[: claims[i].limit], rows[claims[i].limit :]
    return out


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
        changed = _released(after, at, end.values)
        params = {f"v_{name}": value for name, value in changed.items()}
        updates.setdefault(tuple(sorted(changed)), []).append({"b_id": end.job_id, **params})
        if end.results is not None:
            changed["results"] = dict(end.results)
            results.append({"b_job_id": end.job_id, "b_results": changed["results"]})
        ended = event(end.job_id, at, current, after, attempt=end.attempt, owner=end.owner)
        events.append({**ended, "reason": end.reason})
        tx.hint(f"job:{end.job_id}", *(["work"] if after == "PENDING" else []))
        # The row as it is now, not read back (or what the fence read of it, ``rows=False``).
        out.append({**_job_row(before), **changed} if rows else {"id": end.job_id, "status": after})
    # Nothing in the transaction reads these rows again (they are locked, and a claim only
    # takes pending jobs): they are written with the commit.
    for columns, sets in updates.items():
        tx.execute_at_end(_release_update(columns), sets)
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
        attempt=row["attempt"],
        owner=spec.owner,
        reason="claimed",
    )


def _released(status: str, now_ms: int, values: Mapping[str, Any]) -> Row:
    """What ending a lease sets; a job put back to PENDING has no end date."""
    return {
        "status": status,
        "owner": None,
        "lease_expires_ms": None,
        "force_at_ms": None,
        "ended_ms": None if status == "PENDING" else now_ms,
        **values,
    }


def _release(
    connection: sa.Connection, job_id: str, status: str, now_ms: int, values: Mapping[str, Any]
) -> Row:
    """Clear the lease (see :func:`_released`). Returns what it set."""
    changed = _released(status, now_ms, values)
    params = {f"v_{name}": value for name, value in changed.items()}
    connection.execute(_release_update(tuple(sorted(changed))), {"b_id": job_id, **params})
    return changed


# The finish path's statements, built once each: a statement object memoises its cache key,
# so executing it again skips SQLAlchemy's construction and cache-key work (most of the
# Python time of a finish).
@functools.cache
def _finish_select() -> sa.Select[Any]:
    """The leased rows among ``ids``, locked; the fence (owner, attempt) is checked by the
    caller on what it read under the lock."""
    return (
        job_select()
        .add_columns(last_event_ms())
        .where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)), jobs.c.status.in_(LEASED))
        .with_for_update(of=jobs)
    )


@functools.cache
def _fence_select() -> sa.Select[Any]:
    """:func:`_finish_select` for what the fence (and the end's time) needs only: no data,
    no results."""
    return (
        sa.select(jobs.c.id, jobs.c.status, jobs.c.owner, jobs.c.attempt, jobs.c.created_ms,
                  jobs.c.started_ms, last_event_ms())
        .where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)), jobs.c.status.in_(LEASED))
        .with_for_update()
    )


@functools.cache
def _release_update(columns: tuple[str, ...]) -> sa.Update:
    return (
        jobs.update()
        .where(jobs.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam(f"v_{name}") for name in columns})
    )


@functools.cache
def _results_update() -> sa.Update:
    return (
        job_results.update()
        .where(job_results.c.job_id == sa.bindparam("b_job_id"))
        .values(results=sa.bindparam("b_results", type_=job_results.c.results.type))
    )


def _recover_one(connection: sa.Connection, row: Row, decision: Recovery, now_ms: int) -> None:
    status, reason, level, message = decision
    values: dict[str, Any] = {"lost_count": row["lost_count"] + 1}
    if level == "ERROR":
        values["has_errors"] = True
    _release(connection, row["id"], status, now_ms, values)
    connection.execute(
        job_logs.insert(),
        [{"job_id": row["id"], "app": row.get("app", ""), "ts_ms": now_ms, "level": level,
          "message": message}],
    )
    add_events(
        connection,
        [
            event(
                row["id"],
                now_ms,
                row["status"],
                status,
                attempt=row["attempt"],
                owner=row["owner"],
                reason=reason,
            )
        ],
    )
