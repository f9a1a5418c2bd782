"""Lease statements both backends run, and the rule on time every lease write keeps.

The claim and the end of a lease are each backend's own (``store/sqlite/leases.py``:
statements in a write transaction; ``store/postgres/leases.py``: one call of the server
function). What is written once here: releasing a lease, recovering a lost one, giving
back a claim the worker must not run (:func:`give_back`), and how a worker's claims are
grouped and shared out.

Time. A job's times must read in order — created ≤ started ≤ ended, and each event's time
no earlier than the job's times before it — or ``find({createTo: started})`` misses a job
that started "before" it was created. A time read before the write began is not enough: a
claimer that read the clock and then waited for SQLite's write lock (or sent its call to
PostgreSQL) could take a job enqueued while it waited, stamping a start tens of
milliseconds before the creation. So every write reads the clock *inside* its write
transaction, once SQLite's lock is held, and clamps what it stores to the job's own earlier
times: ``started = max(created, now)``, ``ended = max(created, started, now)``, and each
event no earlier than the job's latest event (``rows.last_event_ms``). The clamp
is what makes it robust rather than likely: it also holds when the clock steps back (NTP,
an injected clock), on PostgreSQL where clients' clocks differ and no lock orders them, and
it costs little (the row is already read or written; the latest event is one probe of
``ix_job_events_job``, and a first claim makes none). The server functions clamp the same
way (revision 0008 on).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from sysjobs.store.backend import ClaimSpec, LeaseKey, Recovery
from sysjobs.store.database import Tx
from sysjobs.store.rows import LEASED, Row, add_events, event, last_event_ms, stamp
from sysjobs.store.schema import job_events, job_logs, job_results, jobs


def fair_rounds(
    apps: Sequence[str], limit: int, take: Callable[[str, int], list[Row]]
) -> list[Row]:
    """Up to ``limit`` rows taken app by app in rounds: the fair-share rule of a claim.

    Each round gives every app still in play, in the order of ``apps``, an equal share of
    the slots left (those left at its turn over the apps yet to take theirs, rounded up);
    ``take(app, n)`` leases up to ``n`` of that app's oldest jobs. An app that had fewer
    than it was offered has no more and leaves the rounds; the slots it left go to the
    others in the next round. So with 4 slots, an app with a 100,000-job backlog and another
    with 10 jobs each take 2 per claim until the small one is done — and with 1 slot they
    alternate, since the claimer rotates ``apps`` from one claim to the next. One app
    costs one statement, as a claim did before apps.
    """
    rows: list[Row] = []
    active = list(dict.fromkeys(apps))
    while active and len(rows) < limit:
        still: list[str] = []
        for turn, app in enumerate(active):
            want = -(-(limit - len(rows)) // (len(active) - turn))  # slots left / apps left
            if want <= 0:
                break
            got = take(app, want)
            rows += got
            if len(got) == want:
                still.append(app)
        active = still
    return rows


def capped_take(
    spec: ClaimSpec, app: str, want: int, running: Callable[[], Mapping[str, int]],
    take: Callable[[Sequence[str], int], list[Row]],
) -> list[Row]:
    """Up to ``want`` of ``app``'s jobs within the spec's concurrency limits.

    ``take(queues, n)`` leases up to ``n`` jobs of those queues; ``running()`` counts the
    app's leased jobs per queue — read under the lock that orders the claims meeting these
    limits (the caller holds it). Each limited queue takes at most what its limit leaves,
    the app's cap bounds them all, and the unlimited queues take the rest in one go. No
    limit in play: one ``take``, and nothing counted.
    """
    caps = spec.queue_caps.get(app, {})
    app_cap = spec.app_caps.get(app)
    limited = [q for q in spec.queues if q in caps]
    if app_cap is None and not limited:
        return take(spec.queues, want)
    counts = running()
    if app_cap is not None:
        want = min(want, app_cap - sum(counts.values()))
    rows: list[Row] = []
    for queue in limited:
        n = min(caps[queue] - counts.get(queue, 0), want - len(rows))
        if n > 0:
            rows += take([queue], n)
    free = [q for q in spec.queues if q not in caps]
    if free and len(rows) < want:
        rows += take(free, want - len(rows))
    return rows


def claim_groups(claims: Sequence[ClaimSpec]) -> list[list[int]]:
    """Indexes of ``claims`` that differ only in ``limit``: each group is one claim."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, spec in enumerate(claims):
        key = (spec.owner, tuple(spec.queues), tuple(spec.types), spec.allow_low, spec.lease_ms,
               tuple(spec.apps), tuple((a, tuple(t)) for a, t in sorted(spec.app_types.items())),
               tuple((a, tuple(sorted(c.items()))) for a, c in sorted(spec.queue_caps.items())),
               tuple(sorted(spec.app_caps.items())))
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def merged(claims: Sequence[ClaimSpec], members: list[int]) -> ClaimSpec:
    """A group's claim: its first member's, for all the group's slots."""
    return replace(claims[members[0]], limit=sum(claims[i].limit for i in members))


def share(
    claims: Sequence[ClaimSpec], groups: list[list[int]], per_group: list[list[Row]]
) -> list[list[Row]]:
    """Each claim's rows out of its group's, in order, ``limit`` each."""
    out: list[list[Row]] = [[] for _ in claims]
    for members, rows in zip(groups, per_group, strict=True):
        for i in members:
            out[i], rows = rows[: claims[i].limit], rows[claims[i].limit :]
    return out


def released(status: str, now_ms: int, values: Mapping[str, Any]) -> Row:
    """What ending a lease sets; a job put back to PENDING has no end date."""
    return {
        "status": status,
        "owner": None,
        "lease_expires_ms": None,
        "force_at_ms": None,
        "ended_ms": None if status == "PENDING" else now_ms,
        **values,
    }


# Built once each: a statement object memoises its cache key, so executing it again skips
# SQLAlchemy's construction and cache-key work (most of the Python time of a finish).
@functools.cache
def release_update(columns: tuple[str, ...]) -> sa.Update:
    """Set ``columns`` (bound as ``v_<name>``) on the job ``b_id``."""
    return (
        jobs.update()
        .where(jobs.c.id == sa.bindparam("b_id"))
        .values({name: sa.bindparam(f"v_{name}") for name in columns})
    )


def release(
    connection: sa.Connection, job_id: str, status: str, now_ms: int, values: Mapping[str, Any]
) -> Row:
    """Clear the lease (see :func:`released`). Returns what it set."""
    changed = released(status, now_ms, values)
    params = {f"v_{name}": value for name, value in changed.items()}
    connection.execute(release_update(tuple(sorted(changed))), {"b_id": job_id, **params})
    return changed


def recover_one(connection: sa.Connection, row: Row, decision: Recovery, now_ms: int) -> None:
    """Write one recovery: the release, the log line that says why, the event."""
    status, reason, level, message, error = decision
    values: dict[str, Any] = {"lost_count": row["lost_count"] + 1}
    if level == "ERROR":
        values["has_errors"] = True
    release(connection, row["id"], status, now_ms, values)
    if error is not None:
        _add_error(connection, row["id"], error)
    connection.execute(
        job_logs.insert(),
        [{"job_id": row["id"], "app": row["app"], "ts_ms": now_ms, "level": level,
          "message": message}],
    )
    add_events(
        connection,
        [
            event(
                row["id"], now_ms, row["status"], status, app=row["app"],
                attempt=row["attempt"], owner=row["owner"], reason=reason,
            )
        ],
    )  # fmt: skip


def _add_error(connection: sa.Connection, job_id: str, error: Mapping[str, Any]) -> None:
    """``error`` into the job's results (what it had so far is kept beside it)."""
    query = sa.select(job_results.c.results).where(job_results.c.job_id == job_id)
    results = connection.execute(query).scalar()
    merged = {**(results if isinstance(results, dict) else {}), "error": dict(error)}
    connection.execute(
        job_results.update().where(job_results.c.job_id == job_id).values(results=merged)
    )


#: Where a job given back lands, by its status then: back to waiting, or — when a stop or
#: a cancel was asked for between the claim and the give-back — where that request takes a
#: job that is not running (as a worker that shuts down puts a job back).
GIVEN_BACK = {"RUNNING": "PENDING", "STOPPING": "STOPPED", "CANCELING": "CANCELED"}
#: The reason the events of a given-back stopped or canceled job carry.
GIVE_BACK_REASON = "given back"


def give_back(tx: Tx, leases: Sequence[LeaseKey], now_ms: int) -> list[Row]:
    """Undo the claims of ``leases`` in the open write transaction ``tx``: each job whose
    lease still holds (same owner, same attempt, leased) returns to waiting as it was
    before the claim; the others are left alone. Returns ``{id, status}`` of each job
    given back.

    Before the claim a job was PENDING with no owner, lease or end, its attempts one fewer,
    and no start unless an earlier attempt made one (a claim sets ``started_ms`` only on
    the first). Its turn is the claim's untouched one, so it keeps its place in its app's
    pending order (the front, since it was taken); the limits count leased jobs, one fewer
    now. The claim's event is deleted: job listeners never hear of a run that did not
    happen. A job a stop or cancel reached meanwhile lands where :data:`GIVEN_BACK` says,
    with an event. The rows are locked in id order, as every lease writer locks them.
    """
    wanted = {job_id: (owner, attempt) for job_id, owner, attempt in leases}
    if not wanted:
        return []
    locked = (
        sa.select(jobs.c.id, jobs.c.app, jobs.c.status, jobs.c.owner, jobs.c.attempt,
                  jobs.c.created_ms, jobs.c.started_ms, last_event_ms())
        .where(jobs.c.id.in_(sorted(wanted)), jobs.c.status.in_(LEASED))
        .order_by(jobs.c.id).with_for_update()
    )  # fmt: skip
    out: list[Row] = []
    for row in tx.connection.execute(locked).all():
        if (row.owner, row.attempt) != wanted[row.id]:
            continue  # the lease was taken back, or taken over: not this claimer's to undo
        after = GIVEN_BACK[row.status]
        _undo_claim(tx.connection, row, after, now_ms)
        tx.hint(f"job:{row.id}", *(["work"] if after == "PENDING" else []))
        out.append({"id": row.id, "status": after})
    return out


def _undo_claim(connection: sa.Connection, row: sa.Row[Any], after: str, now_ms: int) -> None:
    """Write one give-back (see :func:`give_back`): the lease cleared, attempt and start as
    before the claim; the claim's event deleted, or the landing's event added."""
    attempt = int(row.attempt) - 1
    started = None if attempt == 0 else row.started_ms
    at = stamp(now_ms, row.created_ms, started, row.last_event_ms)
    connection.execute(
        jobs.update().where(jobs.c.id == row.id)
        .values(released(after, at, {"attempt": attempt, "started_ms": started}))
    )  # fmt: skip
    if after != "PENDING":
        add_events(connection, [event(row.id, at, row.status, after, app=row.app,
                                      attempt=row.attempt, owner=row.owner,
                                      reason=GIVE_BACK_REASON)])  # fmt: skip
        return
    connection.execute(
        job_events.delete().where(
            job_events.c.job_id == row.id, job_events.c.attempt == row.attempt,
            job_events.c.owner == row.owner, job_events.c.to_status == "RUNNING",
            job_events.c.from_status == "PENDING",
        )
    )  # fmt: skip
